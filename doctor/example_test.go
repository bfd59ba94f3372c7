package doctor_test

import (
	"encoding/json"
	"os"
	"text/tabwriter"

	"github.com/calfed/calfed/doctor"
)

// A report as calfed doctor prints it on a terminal: each step, a failed
// one with its fix, and the verdict.
func ExampleReport_WriteTable() {
	r := &doctor.Report{Subject: "doctor northshire.example", Steps: []doctor.Result{
		{Step: doctor.StepAutodiscover, Status: doctor.Pass, Detail: "https://autodiscover.northshire.example/autodiscover/autodiscover.svc"},
		{Step: doctor.StepProof, Status: doctor.Fail, Error: "northshire.example publishes no domain proof",
			Fix: "the partner publishes the proof Get-FederatedDomainProof prints"},
	}}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	r.WriteTable(tw)
	tw.Flush()
	// Output:
	// RESULT  STEP          DETAIL
	// PASS    Autodiscover  https://autodiscover.northshire.example/autodiscover/autodiscover.svc
	// FAIL    domain proof  northshire.example publishes no domain proof
	//                       fix: the partner publishes the proof Get-FederatedDomainProof prints
	// doctor northshire.example: 1 of 2 steps failed
}

// The same report as -o json prints it, for scripts.
func ExampleReport_json() {
	r := &doctor.Report{Subject: "orgrel test Northshire", Passed: true, Steps: []doctor.Result{
		{Step: doctor.StepRelationship, Status: doctor.Pass, Detail: "Northshire: domains northshire.example"},
	}}
	json.NewEncoder(os.Stdout).Encode(r)
	// Output:
	// {"subject":"orgrel test Northshire","passed":true,"steps":[{"step":"relationship","status":"pass","detail":"Northshire: domains northshire.example"}]}
}

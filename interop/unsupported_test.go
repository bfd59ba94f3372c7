package interop

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Operations calfed does not serve (GetUserOofSettings, GetFolder,
// FindItem) come back as each client's ordinary error for an EWS code:
// exchangelib raises ErrorInvalidOperation, ews-javascript-api rejects
// with the SOAP fault's ResponseCode. Before, GetUserOofSettings made
// exchangelib fail on an unknown SOAP response and ews-javascript-api fail
// reading its ResponseMessage.
func TestUnsupportedOperationsAreCleanErrors(t *testing.T) {
	requireClients(t)
	s := startDemo(t)
	var py map[string]string
	out := runClient(t, "exchangelib", []string{debianPy, "python/unsupported.py", s.URL, "svc-trust", demoSecret, "alice@contoso.example"})
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("exchangelib output: %v\n%s", err, out)
	}
	want := map[string]string{"GetUserOofSettings": "ErrorInvalidOperation", "GetFolder": "ErrorInvalidOperation", "FindItem": "ErrorInvalidOperation"}
	if !reflect.DeepEqual(py, want) {
		t.Errorf("exchangelib raised %v, want %v", py, want)
	}
	type jsErr struct{ Error, Code string }
	var js map[string]jsErr
	out = runClient(t, "ews-javascript-api", []string{"node", "js/unsupported.js", s.URL, "svc-trust", demoSecret, "alice@contoso.example"})
	if err := json.Unmarshal(out, &js); err != nil {
		t.Fatalf("ews-javascript-api output: %v\n%s", err, out)
	}
	for op := range want {
		if got := js[op]; got.Error != "SoapFaultDetails" || got.Code != "ErrorInvalidOperation" {
			t.Errorf("ews-javascript-api %s rejected with %+v, want a SoapFaultDetails with ResponseCode ErrorInvalidOperation", op, got)
		}
	}
}

package orgrel

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// setFields sets the options given, in the table's order, as the command
// line does.
func setFields[T any](fields []Field[T], v *T, given map[string]string) error {
	for _, f := range fields {
		if val, ok := given[f.Flag]; ok && f.Flag != "" {
			if err := f.Set(v, val); err != nil {
				return err
			}
		}
	}
	return nil
}

// Every table is complete: each field is shown under a label of its own,
// and each option has its own name, help and setter.
func TestFieldTablesAreComplete(t *testing.T) {
	check := func(name string, n int, field func(i int) (flag, label, help string, get, set bool)) {
		flags, labels := map[string]bool{}, map[string]bool{}
		for i := range n {
			flag, label, help, get, set := field(i)
			if label == "" || labels[label] || !get {
				t.Errorf("%s[%d]: label %q (repeated %v), getter %v", name, i, label, labels[label], get)
			}
			labels[label] = true
			if flag != "" && (flags[flag] || help == "" || !set) {
				t.Errorf("%s[%d] -%s: repeated %v, help %q, setter %v", name, i, flag, flags[flag], help, set)
			}
			flags[flag] = true
		}
	}
	check("RelationshipFields", len(RelationshipFields), func(i int) (string, string, string, bool, bool) {
		f := RelationshipFields[i]
		return f.Flag, f.Label, f.Help, f.Get != nil, f.Set != nil
	})
	check("TrustFields", len(TrustFields), func(i int) (string, string, string, bool, bool) {
		f := TrustFields[i]
		return f.Flag, f.Label, f.Help, f.Get != nil, f.Set != nil
	})
}

func TestRelationshipFieldsSet(t *testing.T) {
	approved := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	approvedNoon := time.Date(2026, 1, 2, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		before Relationship
		given  map[string]string
		want   Relationship
	}{
		{"free/busy on shares availability", Relationship{}, map[string]string{"free-busy": "true"},
			Relationship{FreeBusyAccessEnabled: true, FreeBusyAccessLevel: AvailabilityOnly}},
		{"free/busy on keeps a level set before", Relationship{FreeBusyAccessLevel: LimitedDetails}, map[string]string{"free-busy": "true"},
			Relationship{FreeBusyAccessEnabled: true, FreeBusyAccessLevel: LimitedDetails}},
		{"a level given with free/busy wins", Relationship{}, map[string]string{"free-busy": "true", "level": "None"},
			Relationship{FreeBusyAccessEnabled: true, FreeBusyAccessLevel: None}},
		{"free/busy off keeps the level", Relationship{FreeBusyAccessEnabled: true, FreeBusyAccessLevel: LimitedDetails}, map[string]string{"free-busy": "false"},
			Relationship{FreeBusyAccessLevel: LimitedDetails}},
		{"MailTips on gives Limited", Relationship{}, map[string]string{"mail-tips": "true"},
			Relationship{MailTipsAccessEnabled: true, MailTipsAccessLevel: MailTipsLimited}},
		{"a MailTips level given with it wins", Relationship{}, map[string]string{"mail-tips": "true", "mail-tips-level": "All"},
			Relationship{MailTipsAccessEnabled: true, MailTipsAccessLevel: MailTipsAll}},
		{"lists and text are trimmed", Relationship{}, map[string]string{"domains": " a.example, ,B.example ", "scope": " staff ", "notes": " hi "},
			Relationship{Domains: []string{"a.example", "B.example"}, FreeBusyAccessScope: "staff", Onboarding: Onboarding{Notes: "hi"}}},
		{"approved as a date", Relationship{}, map[string]string{"approved": "2026-11-01"},
			Relationship{Onboarding: Onboarding{Approved: &approved}}},
		{"approved as RFC 3339, kept in UTC", Relationship{}, map[string]string{"approved": "2026-01-02T10:00:00+02:00"},
			Relationship{Onboarding: Onboarding{Approved: &approvedNoon}}},
		{"none clears the approval", Relationship{Onboarding: Onboarding{Approved: &approved}}, map[string]string{"approved": "none"},
			Relationship{}},
		{"enabled off", Relationship{Enabled: true}, map[string]string{"enabled": "false"}, Relationship{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.before
			if err := setFields(RelationshipFields, &got, tt.given); err != nil {
				t.Fatalf("set %v: %v", tt.given, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("set %v = %+v, want %+v", tt.given, got, tt.want)
			}
		})
	}
	for _, bad := range []map[string]string{{"level": "Lots"}, {"mail-tips-level": "LimitedDetails"}, {"approved": "yesterday"}} {
		var r Relationship
		if err := setFields(RelationshipFields, &r, bad); err == nil {
			t.Errorf("set %v: no error", bad)
		}
	}
}

// orgrel show: empty text as "-", the approval as a date.
func TestRelationshipFieldsShow(t *testing.T) {
	approved := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	r := Relationship{Name: "P", Domains: []string{"a.example", "b.example"}, FreeBusyAccessLevel: LimitedDetails, Version: 3}
	want := map[string]string{"Name": "P", "DomainNames": "a.example, b.example", "Enabled": "false", "FreeBusyAccessLevel": "LimitedDetails",
		"FreeBusyAccessScope": "-", "MailTipsAccessLevel": "None", "Approved": "-", "Notes": "-", "Version": "3"}
	shown := map[string]string{}
	for _, f := range RelationshipFields {
		shown[f.Label] = f.Get(r)
	}
	for label, v := range want {
		if shown[label] != v {
			t.Errorf("%s = %q, want %q", label, shown[label], v)
		}
	}
	r.Onboarding.Approved = &approved
	for _, f := range RelationshipFields {
		if f.Label == "Approved" && f.Get(r) != "2026-11-01" {
			t.Errorf("Approved = %q, want 2026-11-01", f.Get(r))
		}
	}
}

// An ApplicationUri that followed the account namespace follows it to a
// new one; one set apart from it, or given with it, stays.
func TestTrustFieldsSet(t *testing.T) {
	tests := []struct {
		name   string
		before Trust
		given  map[string]string
		want   string // ApplicationURI
	}{
		{"default follows", Trust{AccountNamespace: "a.example", ApplicationURI: "FYDIBOHF25SPDLT.A.example"}, map[string]string{"account-namespace": "b.example"}, ""},
		{"custom stays", Trust{AccountNamespace: "a.example", ApplicationURI: "urn:custom"}, map[string]string{"account-namespace": "b.example"}, "urn:custom"},
		{"given with it", Trust{AccountNamespace: "a.example", ApplicationURI: "FYDIBOHF25SPDLT.a.example"},
			map[string]string{"account-namespace": "b.example", "application-uri": "urn:new"}, "urn:new"},
		{"the first namespace", Trust{}, map[string]string{"account-namespace": "b.example"}, ""},
	}
	for _, tt := range tests {
		got := tt.before
		if err := setFields(TrustFields, &got, tt.given); err != nil {
			t.Fatal(err)
		}
		if got.ApplicationURI != tt.want || got.AccountNamespace != "b.example" {
			t.Errorf("%s: set %v = %+v, want ApplicationURI %q", tt.name, tt.given, got, tt.want)
		}
	}
	var tr Trust
	if err := setFields(TrustFields, &tr, map[string]string{"domains": "x.example, y.example", "disclose-all-domains": "true"}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(tr.Domains, ",") != "x.example,y.example" || !tr.DiscloseAllDomains {
		t.Errorf("set domains and disclose-all-domains = %+v", tr)
	}
}

// row is a record's cells under columns.
func row[T any](columns []Field[T], v T) string {
	var cells []string
	for _, c := range columns {
		cells = append(cells, c.Get(v))
	}
	return strings.Join(cells, "|")
}

func TestColumns(t *testing.T) {
	rel := Relationship{Name: "P", Domains: []string{"a.example", "b.example"}, Enabled: true,
		FreeBusyAccessLevel: LimitedDetails, MailTipsAccessEnabled: true, MailTipsAccessLevel: MailTipsAll}
	if got, want := row(RelationshipColumns, rel), "P|a.example,b.example|true|off|-|All|-"; got != want {
		t.Errorf("relationship row = %q, want %q", got, want)
	}
	day := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	acct := ServiceAccount{Name: "svc", Relationship: "P", Created: day}
	if got, want := row(AccountColumns, acct), "svc|P|active|2026-11-01|-|-"; got != want {
		t.Errorf("account row = %q, want %q", got, want)
	}
	until := day.AddDate(0, 0, 7)
	acct.Rotated, acct.PreviousValidUntil = &day, &until
	if got, want := row(AccountColumns, acct), "svc|P|active|2026-11-01|2026-11-01|2026-11-08 09:00 UTC"; got != want {
		t.Errorf("rotated account row = %q, want %q", got, want)
	}
	acct.Revoked = &day
	if got, want := row(AccountColumns, acct), "svc|P|revoked 2026-11-01|2026-11-01|2026-11-01|-"; got != want {
		t.Errorf("revoked account row = %q, want %q", got, want)
	}
	check := DomainCheck{Domain: "p.example", Kind: DomainPartner, Relationship: "P", Status: "pass", Checked: day}
	if got, want := row(DomainCheckColumns, check), "p.example|orgrel P|pass|2026-11-01T09:00:00Z|-"; got != want {
		t.Errorf("partner check row = %q, want %q", got, want)
	}
	check.Kind, check.Detail = DomainOurs, "no such domain"
	if got := row(DomainCheckColumns, check); !strings.HasPrefix(got, "p.example|ours|") || !strings.HasSuffix(got, "|no such domain") {
		t.Errorf("our check row = %q", got)
	}
}

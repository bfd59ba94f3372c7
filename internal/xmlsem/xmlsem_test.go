package xmlsem

import (
	"strings"
	"testing"
)

func TestCompareStrict(t *testing.T) {
	same := [][2]string{
		{`<a:x xmlns:a="urn:n" k="1" j="2"><a:y>t</a:y></a:x>`, `<x xmlns="urn:n" j="2" k="1">  <y>t</y>
</x>`},
		{`<x xmlns:p="urn:p" p:k="1"/>`, `<x xmlns:q="urn:p" q:k="1"/>`},
	}
	for _, p := range same {
		if d, err := Compare([]byte(p[0]), []byte(p[1]), Options{}); err != nil || len(d) != 0 {
			t.Errorf("Compare(%s, %s) = %v, %v; want equal", p[0], p[1], d, err)
		}
	}
	differ := []struct{ a, b, path string }{
		{`<x xmlns="urn:n"/>`, `<x xmlns="urn:m"/>`, "/"},
		{`<x><y/><z/></x>`, `<x><z/><y/></x>`, "x"},
		{`<x><y>1</y><y>2</y></x>`, `<x><y>2</y><y>1</y></x>`, "x/y[1]"},
		{`<x k="1"/>`, `<x k="2"/>`, "x/@k"},
		{`<x xmlns:p="urn:p" p:k="1"/>`, `<x xmlns:p="urn:q" p:k="1"/>`, "x/@k"},
		{`<x>a</x>`, `<x>b</x>`, "x"},
		{`<x><y/></x>`, `<x><y/><y/></x>`, "x/y[2]"},
		{`<x><Domains><D>a</D><D>b</D></Domains></x>`, `<x><Domains><D>b</D><D>a</D></Domains></x>`, "x/Domains/D[1]"},
		{`<x><ServerVersionInfo V="1"/></x>`, `<x><ServerVersionInfo V="2"/></x>`, "x/ServerVersionInfo/@V"},
		{`<x/>`, `not XML`, "/"},
	}
	for _, tt := range differ {
		d, err := Compare([]byte(tt.a), []byte(tt.b), Options{})
		if err != nil || len(d) == 0 || d[0].Path != tt.path {
			t.Errorf("Compare(%s, %s) = %v, %v; want a difference at %s", tt.a, tt.b, d, err, tt.path)
		}
	}
}

func TestCompareOptions(t *testing.T) {
	tests := []struct {
		name, a, b string
		o          Options
	}{
		{"unordered parent", `<x><Domains><D>a</D><D>b</D></Domains></x>`, `<x><Domains><D>b</D><D>a</D></Domains></x>`, Options{Unordered: []string{"Domains"}}},
		{"ignored element", `<x><MessageID>1</MessageID><y/></x>`, `<x><MessageID>2</MessageID><y/></x>`, Options{Ignore: []string{"MessageID"}}},
		{"ignored attribute of one element", `<x><Error Id="1"/></x>`, `<x><Error Id="2"/></x>`, Options{Ignore: []string{"Error/@Id"}}},
		{"ignored child of one parent", `<x><D><ID>1</ID></D></x>`, `<x><D><ID>2</ID></D></x>`, Options{Ignore: []string{"D/ID"}}},
		{"events as a set, times as instants", `<CalendarEventArray><E><StartTime>2026-03-23T10:00:00Z</StartTime></E><E><StartTime>2026-03-23T09:00:00</StartTime></E></CalendarEventArray>`,
			`<CalendarEventArray><E><StartTime>2026-03-23T09:00:00</StartTime></E><E><StartTime>2026-03-23T11:00:00+01:00</StartTime></E></CalendarEventArray>`, Options{FreeBusy: true}},
	}
	for _, tt := range tests {
		if d, err := Compare([]byte(tt.a), []byte(tt.b), tt.o); err != nil || len(d) != 0 {
			t.Errorf("%s: Compare = %v, %v; want equal", tt.name, d, err)
		}
		if d, err := Compare([]byte(tt.a), []byte(tt.b), Options{}); err != nil || len(d) == 0 {
			t.Errorf("%s: Compare without options = %v, %v; want a difference", tt.name, d, err)
		}
	}
	d, err := Compare([]byte(`<MergedFreeBusy>0120</MergedFreeBusy>`), []byte(`<MergedFreeBusy>0110</MergedFreeBusy>`), Options{FreeBusy: true})
	if err != nil || len(d) != 1 || d[0].Path != "MergedFreeBusy[digit 2]" {
		t.Errorf("merged strings: Compare = %v, %v; want a difference at digit 2", d, err)
	}
}

func TestHostileDocuments(t *testing.T) {
	bomb := `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]><a>&y;</a>`
	deep := strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000)
	for _, doc := range []string{bomb, deep, "", "<a>"} {
		if _, err := Compare([]byte(doc), []byte("<a/>"), Options{}); err == nil {
			t.Errorf("Compare accepted %.40q as the expected document", doc)
		}
		if _, err := Canonical([]byte(doc)); err == nil {
			t.Errorf("Canonical accepted %.40q", doc)
		}
	}
}

func TestCanonical(t *testing.T) {
	doc := `<s:Envelope xmlns:s="urn:s" xmlns:t="urn:t"><s:Body t:b="2" a="1">
  <t:Value>  Bob </t:Value><t:Empty/></s:Body></s:Envelope>`
	want := "{urn:s}Envelope\n" +
		"  {urn:s}Body {urn:t}b=\"2\" {}a=\"1\"\n" +
		"    {urn:t}Value = Bob\n" +
		"    {urn:t}Empty"
	got, err := Canonical([]byte(doc))
	if err != nil || got != want {
		t.Errorf("Canonical = %q, %v; want %q", got, err, want)
	}
}

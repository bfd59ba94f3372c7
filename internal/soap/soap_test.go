package soap

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type recorder struct {
	headers []string
	body    string
}

func (r *recorder) Header(d *xml.Decoder, se xml.StartElement) error {
	r.headers = append(r.headers, se.Name.Space+" "+se.Name.Local)
	return d.Skip()
}

func (r *recorder) Body(d *xml.Decoder, se xml.StartElement) error {
	var v struct {
		Text string `xml:",chardata"`
	}
	if err := d.DecodeElement(&v, &se); err != nil {
		return err
	}
	r.body = se.Name.Space + " " + se.Name.Local + " " + v.Text
	return nil
}

func TestDecodeIgnoresPrefixesAndFindsParts(t *testing.T) {
	docs := []string{
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:x="urn:x"><s:Header><x:A/><x:B/></s:Header><s:Body><x:Op>v</x:Op></s:Body></s:Envelope>`,
		`<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Header><A xmlns="urn:x"/><B xmlns="urn:x"/></Header><Body><Op xmlns="urn:x">v</Op></Body></Envelope>`,
		`<q:Envelope xmlns:q="http://schemas.xmlsoap.org/soap/envelope/"><q:Body><y:Op xmlns:y="urn:x">v</y:Op><y:Ignored xmlns:y="urn:x"/></q:Body><q:Header><z:A xmlns:z="urn:x"/><z:B xmlns:z="urn:x"/></q:Header></q:Envelope>`,
	}
	for _, doc := range docs {
		r := &recorder{}
		v, err := Decode([]byte(doc), Limits{}, r)
		if err != nil || v != V11 || r.body != "urn:x Op v" || strings.Join(r.headers, ",") != "urn:x A,urn:x B" {
			t.Errorf("Decode(%s) = %v, %v, headers %v, body %q", doc, v, err, r.headers, r.body)
		}
	}
	r := &recorder{}
	if v, err := Decode([]byte(`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><Op xmlns="urn:x"/></e:Body></e:Envelope>`), Limits{}, r); err != nil || v != V12 {
		t.Errorf("SOAP 1.2: %v, %v", v, err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	env := func(inner string) string {
		return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>` + inner + `</s:Body></s:Envelope>`
	}
	tests := []struct {
		name string
		doc  string
		l    Limits
		want error
	}{
		{"DTD", `<!DOCTYPE s [<!ENTITY x "y">]>` + env("<a/>"), Limits{}, ErrDTD},
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>` + env("<a>&lol2;</a>"), Limits{}, ErrDTD},
		{"undeclared entity", env("<a>&xxe;</a>"), Limits{}, ErrMalformed},
		{"too deep", env(strings.Repeat("<a>", 50) + strings.Repeat("</a>", 50)), Limits{}, ErrTooDeep},
		{"too many", env("<a>" + strings.Repeat("<b/>", 200) + "</a>"), Limits{MaxElements: 100}, ErrTooMany},
		{"too large", env("<a>" + strings.Repeat("x", 2000) + "</a>"), Limits{MaxBytes: 1000}, ErrTooLarge},
		{"not soap", `<Envelope xmlns="urn:not-soap"><Body/></Envelope>`, Limits{}, ErrNotEnvelope},
		{"empty", ``, Limits{}, ErrNotEnvelope},
		{"no body", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>`, Limits{}, ErrNoBody},
		{"empty body", env(""), Limits{}, ErrNoBody},
		{"truncated", env("<a>")[:60], Limits{}, ErrMalformed},
	}
	for _, tt := range tests {
		_, err := Decode([]byte(tt.doc), tt.l, &recorder{})
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := ReadBody(strings.NewReader(strings.Repeat("x", 11)), Limits{MaxBytes: 10}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadBody: %v", err)
	}
}

func TestWriterEscapes(t *testing.T) {
	w := &Writer{}
	w.Elem("a", "x<y&z>\"\r\x01\xff", "k", "v\"<\n")
	want := `<a k="v&quot;&lt;&#xa;">x&lt;y&amp;z&gt;"&#xD;` + "\uFFFD\uFFFD" + `</a>`
	if string(w.B) != want {
		t.Errorf("Writer = %q, want %q", w.B, want)
	}
	var v struct {
		K    string `xml:"k,attr"`
		Text string `xml:",chardata"`
	}
	if err := xml.Unmarshal(w.B, &v); err != nil || v.K != "v\"<\n" {
		t.Errorf("round trip: %+v, %v", v, err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><a/></s:Header><s:Body><x:Op xmlns:x="urn:x">v</x:Op></s:Body></s:Envelope>`)
	f.Fuzz(func(t *testing.T, doc string) {
		Decode([]byte(doc), Limits{MaxBytes: 1 << 16, MaxDepth: 16, MaxElements: 500}, &recorder{})
	})
}

func FuzzWriterText(f *testing.F) {
	f.Add("plain", "attr")
	f.Add("<&>\"\r\n\t\x00\xfe", "\n\"")
	f.Fuzz(func(t *testing.T, text, attr string) {
		w := &Writer{}
		w.Elem("a", text, "k", attr)
		var v struct {
			K string `xml:"k,attr"`
		}
		if err := xml.Unmarshal(w.B, &v); err != nil {
			t.Fatalf("Writer output %q does not parse: %v", w.B, err)
		}
	})
}

// The byte scan follows quotes, comments and CDATA rather than counting
// every angle bracket.
func TestScanLimits(t *testing.T) {
	l := Limits{MaxDepth: 3, MaxElements: 3}.withDefaults()
	ok := []string{
		`<a><b k="x>y" j='<c>'><c/></b></a>`,
		`<a><!-- <b><c><d><e> --><b/></a>`,
		`<a><![CDATA[<b><c><d><e>]]></a>`,
		`<?xml version="1.0"?><a><?pi <b><c>?></a>`,
	}
	for _, doc := range ok {
		if err := scanLimits([]byte(doc), l); err != nil {
			t.Errorf("scanLimits(%s) = %v", doc, err)
		}
	}
	if err := scanLimits([]byte(`<a><b><c><d/></c></b></a>`), l); !errors.Is(err, ErrTooDeep) {
		t.Errorf("depth 4: %v", err)
	}
	if err := scanLimits([]byte(`<a><b/><c/><d/></a>`), l); !errors.Is(err, ErrTooMany) {
		t.Errorf("4 elements: %v", err)
	}
}

func TestOperation(t *testing.T) {
	const m = "http://schemas.microsoft.com/exchange/services/2006/messages"
	for _, tt := range []struct {
		name, in string
		want     string
		ok       bool
	}{
		{"SOAP 1.1 with headers", `<s:Envelope xmlns:s="` + NS11 + `"><s:Header><a><GetMailTips xmlns="` + m + `"/></a></s:Header><s:Body><GetMailTips xmlns="` + m + `"><x/></GetMailTips></s:Body></s:Envelope>`, "GetMailTips", true},
		{"SOAP 1.2", `<e:Envelope xmlns:e="` + NS12 + `"><e:Body><m:GetUserAvailabilityRequest xmlns:m="` + m + `"/></e:Body></e:Envelope>`, "GetUserAvailabilityRequest", true},
		{"first operation of the first body", `<s:Envelope xmlns:s="` + NS11 + `"><s:Body><A xmlns="` + m + `"/><GetMailTips xmlns="` + m + `"/></s:Body></s:Envelope>`, "A", true},
		{"empty body", `<s:Envelope xmlns:s="` + NS11 + `"><s:Body></s:Body></s:Envelope>`, "", false},
		{"no envelope", `<Body><GetMailTips/></Body>`, "", false},
		{"a DTD", `<!DOCTYPE x [<!ENTITY a "b">]><s:Envelope xmlns:s="` + NS11 + `"><s:Body><GetMailTips/></s:Body></s:Envelope>`, "", false},
		{"truncated", `<s:Envelope xmlns:s="` + NS11 + `"><s:Header><a>`, "", false},
	} {
		got, ok := Operation([]byte(tt.in), Limits{})
		if got.Local != tt.want || ok != tt.ok || (ok && got.Space != m) {
			t.Errorf("%s: Operation = %v, %v; want %s, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// opRecorder notes the first operation Decode hands over.
type opRecorder struct {
	first *xml.Name
}

func (r *opRecorder) Header(d *xml.Decoder, se xml.StartElement) error { return d.Skip() }
func (r *opRecorder) Body(d *xml.Decoder, se xml.StartElement) error {
	if r.first == nil {
		r.first = &se.Name
	}
	return d.Skip()
}

// Whatever Decode accepts, Operation routes by the operation Decode finds
// first.
func FuzzOperation(f *testing.F) {
	f.Add(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><a/></s:Header><s:Body><x:Op xmlns:x="urn:x">v</x:Op></s:Body></s:Envelope>`)
	f.Add(`<?xml version="1.0"?><!-- c --><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns="urn:d"><e:Header><h a='>'><![CDATA[<e:Body>]]></h></e:Header><e:Body xmlns:x="urn:y"><Op/></e:Body></e:Envelope>`)
	f.Add(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="a&amp;b"><s:Body><m:Op/></s:Body></s:Envelope>`)
	f.Fuzz(func(t *testing.T, doc string) {
		l := Limits{MaxBytes: 1 << 16, MaxDepth: 16, MaxElements: 500}
		name, ok := Operation([]byte(doc), l)
		if !ok && name.Local != "" {
			t.Fatalf("Operation = %v without ok", name)
		}
		var r opRecorder
		if _, err := Decode([]byte(doc), l, &r); err == nil && r.first != nil && (!ok || name != *r.first) {
			t.Fatalf("Operation = %v, %v; Decode found %v", name, ok, *r.first)
		}
	})
}

// Routing by operation reads the envelope up to the body's first element;
// a request with a delegation token has a few kilobytes of header first.
func BenchmarkOperation(b *testing.B) {
	header := `<o:Security xmlns:o="` + NSSecurity + `"><e:EncryptedData xmlns:e="http://www.w3.org/2001/04/xmlenc#"><e:CipherData><e:CipherValue>` +
		strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", 150) + `</e:CipherValue></e:CipherData></e:EncryptedData></o:Security>`
	doc := []byte(`<s:Envelope xmlns:s="` + NS11 + `"><s:Header>` + header + `</s:Header><s:Body><m:GetUserAvailabilityRequest xmlns:m="urn:m"><m:MailboxDataArray/></m:GetUserAvailabilityRequest></s:Body></s:Envelope>`)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, ok := Operation(doc, Limits{}); !ok {
			b.Fatal("no operation")
		}
	}
}

// RequestOperation reads a body not yet in memory and hands it on
// unread; the operation is found once, and finding it allocates nothing
// for the requests calfed serves. A body over the limit has none.
func TestRequestOperation(t *testing.T) {
	const m = "http://schemas.microsoft.com/exchange/services/2006/messages"
	doc := `<s:Envelope xmlns:s="` + NS11 + `" xmlns:m="` + m + `"><s:Header/><s:Body><m:GetUserAvailabilityRequest/></s:Body></s:Envelope>`
	r := httptest.NewRequest(http.MethodPost, "/ews/exchange.asmx", strings.NewReader(doc))
	for range 2 {
		if op, ok := RequestOperation(r, Limits{}); !ok || op != (xml.Name{Space: m, Local: "GetUserAvailabilityRequest"}) {
			t.Fatalf("RequestOperation = %v, %v", op, ok)
		}
	}
	if n := testing.AllocsPerRun(10, func() { RequestOperation(r, Limits{}) }); n != 0 {
		t.Errorf("RequestOperation again: %v allocations, want 0", n)
	}
	data := []byte(doc)
	if n := testing.AllocsPerRun(10, func() { Operation(data, Limits{}) }); n != 0 {
		t.Errorf("Operation: %v allocations, want 0", n)
	}
	if body, err := ReadRequest(r, Limits{}); err != nil || string(body) != doc {
		t.Errorf("the handler reads %q, %v; want the body as sent", body, err)
	}
	big := httptest.NewRequest(http.MethodPost, "/ews/exchange.asmx", strings.NewReader(doc))
	if op, ok := RequestOperation(big, Limits{MaxBytes: 10}); ok {
		t.Errorf("RequestOperation over the limit = %v, want none", op)
	}
	SetBody(big, []byte(doc))
	if op, ok := RequestOperation(big, Limits{MaxBytes: 10}); ok {
		t.Errorf("RequestOperation of a body in memory over the limit = %v, want none", op)
	}
}

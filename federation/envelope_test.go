package federation

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/internal/soap"
)

const envNS = `xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:e="http://www.w3.org/2001/04/xmlenc#"`

func TestScanEnvelope(t *testing.T) {
	ok := []string{
		`<s:Envelope ` + envNS + `><s:Header><o:Security s:mustUnderstand="1"><e:EncryptedData Type="x"><e:CipherData/></e:EncryptedData></o:Security></s:Header><s:Body/></s:Envelope>`,
		`<?xml version="1.0"?><!-- c --><x:Envelope xmlns:x="http://schemas.xmlsoap.org/soap/envelope/"><x:Header><a/><Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><q:EncryptedData xmlns:q="http://www.w3.org/2001/04/xmlenc#"/></Security></x:Header><x:Body><b>text &lt; more</b></x:Body></x:Envelope>`,
	}
	for _, doc := range ok {
		loc, err := scanEnvelope([]byte(doc), soap.Limits{})
		if err != nil {
			t.Errorf("scanEnvelope(%s): %v", doc, err)
			continue
		}
		if sec := doc[loc.secStart:loc.secEnd]; !strings.HasSuffix(sec, "Security>") || !strings.Contains(sec, doc[loc.edStart:loc.edEnd]) || !strings.Contains(doc[loc.edStart:loc.edEnd], "EncryptedData") {
			t.Errorf("spans %q / %q", doc[loc.secStart:loc.secEnd], doc[loc.edStart:loc.edEnd])
		}
	}
	deep := `<s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData/></o:Security></s:Header><s:Body>` + strings.Repeat("<a>", 60) + strings.Repeat("</a>", 60) + `</s:Body></s:Envelope>`
	many := `<s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData/></o:Security></s:Header><s:Body>` + strings.Repeat("<a/>", 20001) + `</s:Body></s:Envelope>`
	bad := []struct {
		doc  string
		want error
	}{
		{`<s:Envelope ` + envNS + ` xmlns:f="urn:fake"><s:Header><f:Security><e:EncryptedData/></f:Security></s:Header></s:Envelope>`, ErrNoToken}, // Security in the wrong namespace
		{`<s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData/></o:Security><o:Security><e:EncryptedData/></o:Security></s:Header></s:Envelope>`, ErrMalformed},
		{`<s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData/><e:EncryptedData/></o:Security></s:Header></s:Envelope>`, ErrNoToken}, // two tokens
		{`<s:Envelope ` + envNS + `><s:Body><o:Security><e:EncryptedData/></o:Security></s:Body></s:Envelope>`, ErrNoToken},                       // the token in the body
		{`<s:Envelope ` + envNS + `><s:Header><!--<o:Security><e:EncryptedData/></o:Security>--></s:Header></s:Envelope>`, ErrNoToken},            // hidden in a comment
		{`<!DOCTYPE s:Envelope [<!ENTITY x "y">]><s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData/></o:Security></s:Header></s:Envelope>`, soap.ErrDTD},
		{`<s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData>`, ErrNoToken},                                                                  // unterminated
		{`<s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData/></o:Security></s:Header><s:Body><a>&x;</a></s:Body></s:Envelope>`, ErrNoToken}, // an undefined entity
		{`<s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData/></o:Security></s:Header><s:Body><a></b></s:Body></s:Envelope>`, ErrNoToken},    // mismatched tags
		{deep, soap.ErrTooDeep},
		{many, soap.ErrTooMany},
		// a namespace written with a character reference: etree decides
		{`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd&#x20;"><s:Header><o:Security/></s:Header></s:Envelope>`, errUnsure},
	}
	for _, tt := range bad {
		if _, err := scanEnvelope([]byte(tt.doc), soap.Limits{}); !errors.Is(err, tt.want) {
			t.Errorf("scanEnvelope(%.80s…) = %v, want %v", tt.doc, err, tt.want)
		}
	}
	if _, err := scanEnvelope([]byte(ok[0]), soap.Limits{MaxBytes: 10}); !errors.Is(err, soap.ErrTooLarge) {
		t.Errorf("scanEnvelope over MaxBytes = %v, want ErrTooLarge", err)
	}
}

// etreeToken is what the full parse finds: the token element, or the
// error the guard gave before the scanner was authoritative.
func etreeToken(doc []byte) (*etree.Element, error) {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		return nil, ErrNoToken
	}
	env := d.Root()
	if env == nil || env.Tag != "Envelope" || (env.NamespaceURI() != soap.NS11 && env.NamespaceURI() != soap.NS12) {
		return nil, ErrNoToken
	}
	headers := childNS(env, env.NamespaceURI(), "Header")
	if len(headers) != 1 {
		return nil, ErrNoToken
	}
	sec := childNS(headers[0], nsWSSE, "Security")
	switch {
	case len(sec) == 0:
		return nil, ErrNoToken
	case len(sec) > 1:
		return nil, ErrMalformed
	}
	eds := childNS(sec[0], nsXEnc, "EncryptedData")
	if len(eds) != 1 {
		return nil, ErrNoToken
	}
	return eds[0], nil
}

// shape describes an element by namespace and name, attributes and text,
// recursively: equal shapes are the same element for validation.
func shape(el *etree.Element) string {
	var b strings.Builder
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		b.WriteString("<{" + e.NamespaceURI() + "}" + e.Tag)
		var attrs []string
		for _, a := range e.Attr {
			if a.Space != "xmlns" && !(a.Space == "" && a.Key == "xmlns") {
				attrs = append(attrs, a.Space+":"+a.Key+"="+a.Value)
			}
		}
		sort.Strings(attrs)
		b.WriteString(strings.Join(attrs, " ") + ">")
		for _, c := range e.Child {
			switch c := c.(type) {
			case *etree.Element:
				walk(c)
			case *etree.CharData:
				b.WriteString(c.Data)
			}
		}
		b.WriteString("</>")
	}
	walk(el)
	return b.String()
}

// The scanner and etree read every well-formed envelope alike: the same
// outcome, and when there is a token, the same element.
func FuzzScanEnvelope(f *testing.F) {
	f.Add(`<s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData Type="x"><e:CipherData/></e:EncryptedData></o:Security></s:Header><s:Body/></s:Envelope>`)
	f.Add(`<?xml version="1.0"?><!-- c --><x:Envelope xmlns:x="http://schemas.xmlsoap.org/soap/envelope/"><x:Header><a/><Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><q:EncryptedData xmlns:q="http://www.w3.org/2001/04/xmlenc#"><q:CipherData>x &amp; y</q:CipherData></q:EncryptedData></Security></x:Header><x:Body><b>text &lt; more</b></x:Body></x:Envelope>`)
	f.Add(`<s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData/></o:Security><o:Security><e:EncryptedData/></o:Security></s:Header></s:Envelope>`)
	f.Add(`<s:Envelope ` + envNS + `><s:Header/><s:Header><o:Security><e:EncryptedData/></o:Security></s:Header></s:Envelope>`)
	f.Add(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:e="urn:fake"><s:Header><o:Security xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:e="http://www.w3.org/2001/04/xmlenc#"><e:EncryptedData><e:CipherData/></e:EncryptedData></o:Security></s:Header><s:Body/></s:Envelope>`)
	f.Fuzz(func(t *testing.T, doc string) {
		loc, err := scanEnvelope([]byte(doc), soap.Limits{})
		if err == nil && !(0 <= loc.secStart && loc.secStart < loc.edStart && loc.edStart < loc.edEnd && loc.edEnd <= loc.secEnd && loc.secEnd <= len(doc)) {
			t.Fatalf("spans out of order: %+v of %d", loc, len(doc))
		}
		if errors.Is(err, errUnsure) || errors.Is(err, soap.ErrDTD) || errors.Is(err, soap.ErrTooDeep) || errors.Is(err, soap.ErrTooMany) {
			return // etree decides, or nobody does
		}
		if etree.NewDocument().ReadFromString(doc) != nil {
			// Not well-formed: the scanner may find a token all the same;
			// validation decides on the token alone, and the handler
			// behind refuses the envelope.
			return
		}
		want, wantErr := etreeToken([]byte(doc))
		if (err == nil) != (wantErr == nil) || (err != nil && !errors.Is(err, wantErr)) {
			t.Fatalf("scanEnvelope = %v, etree = %v", err, wantErr)
		}
		if err != nil {
			return
		}
		got, perr := parseToken([]byte(doc[loc.edStart:loc.edEnd]), loc.scope)
		if perr != nil {
			t.Fatalf("the scanned token does not parse: %v", perr)
		}
		if shape(got) != shape(want) {
			t.Fatalf("scanned token %s, etree's %s", shape(got), shape(want))
		}
	})
}

// The token's namespaces are those in scope where it is: the innermost
// declaration of a prefix wins, as for etree.
func TestScanEnvelopeScope(t *testing.T) {
	doc := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:e="urn:fake" xmlns:d="urn:outer"><s:Header><o:Security xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:e="http://www.w3.org/2001/04/xmlenc#"><e:EncryptedData><e:CipherData/><d:x/></e:EncryptedData></o:Security></s:Header><s:Body/></s:Envelope>`
	loc, err := scanEnvelope([]byte(doc), soap.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := parseToken([]byte(doc[loc.edStart:loc.edEnd]), loc.scope)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := etreeToken([]byte(doc))
	if shape(ed) != shape(want) {
		t.Errorf("scanned token %s, etree's %s", shape(ed), shape(want))
	}
	if cd := ed.ChildElements(); len(cd) != 2 || cd[0].NamespaceURI() != nsXEnc || cd[1].NamespaceURI() != "urn:outer" {
		t.Errorf("the token's children resolve to the wrong namespaces: %s", shape(ed))
	}
}

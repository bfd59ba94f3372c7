package federation

import (
	"strings"
	"testing"
)

const envNS = `xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:e="http://www.w3.org/2001/04/xmlenc#"`

func TestTokenSpan(t *testing.T) {
	ok := []string{
		`<s:Envelope ` + envNS + `><s:Header><o:Security s:mustUnderstand="1"><e:EncryptedData Type="x"><e:CipherData/></e:EncryptedData></o:Security></s:Header><s:Body/></s:Envelope>`,
		`<?xml version="1.0"?><!-- c --><x:Envelope xmlns:x="http://schemas.xmlsoap.org/soap/envelope/"><x:Header><a/><Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><q:EncryptedData xmlns:q="http://www.w3.org/2001/04/xmlenc#"/></Security></x:Header><x:Body><b>text &lt; more</b></x:Body></x:Envelope>`,
	}
	for _, doc := range ok {
		ss, se, es, ee, err := tokenSpan([]byte(doc))
		if err != nil {
			t.Errorf("tokenSpan(%s): %v", doc, err)
			continue
		}
		if sec := doc[ss:se]; !strings.HasSuffix(sec, "Security>") || !strings.Contains(sec, doc[es:ee]) || !strings.Contains(doc[es:ee], "EncryptedData") {
			t.Errorf("spans %q / %q", doc[ss:se], doc[es:ee])
		}
	}
	bad := []string{
		// Security in the wrong namespace
		`<s:Envelope ` + envNS + ` xmlns:f="urn:fake"><s:Header><f:Security><e:EncryptedData/></f:Security></s:Header></s:Envelope>`,
		// two Security headers
		`<s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData/></o:Security><o:Security><e:EncryptedData/></o:Security></s:Header></s:Envelope>`,
		// two tokens
		`<s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData/><e:EncryptedData/></o:Security></s:Header></s:Envelope>`,
		// the token in the body
		`<s:Envelope ` + envNS + `><s:Body><o:Security><e:EncryptedData/></o:Security></s:Body></s:Envelope>`,
		// hidden in a comment
		`<s:Envelope ` + envNS + `><s:Header><!--<o:Security><e:EncryptedData/></o:Security>--></s:Header></s:Envelope>`,
		// a DTD
		`<!DOCTYPE s:Envelope [<!ENTITY x "y">]><s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData/></o:Security></s:Header></s:Envelope>`,
		// unterminated
		`<s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData>`,
		// a namespace written with an entity
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd&#x20;"><s:Header><o:Security/></s:Header></s:Envelope>`,
	}
	for _, doc := range bad {
		if _, _, _, _, err := tokenSpan([]byte(doc)); err == nil {
			t.Errorf("tokenSpan accepted %s", doc)
		}
	}
}

func FuzzTokenSpan(f *testing.F) {
	f.Add(`<s:Envelope ` + envNS + `><s:Header><o:Security><e:EncryptedData Type="x"><e:CipherData/></e:EncryptedData></o:Security></s:Header><s:Body/></s:Envelope>`)
	f.Fuzz(func(t *testing.T, doc string) {
		ss, se, es, ee, err := tokenSpan([]byte(doc))
		if err != nil {
			return
		}
		if !(0 <= ss && ss < es && es < ee && ee <= se && se <= len(doc)) {
			t.Fatalf("spans out of order: %d %d %d %d of %d", ss, es, ee, se, len(doc))
		}
	})
}

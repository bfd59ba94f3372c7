// Package wsfed reads and writes the WS-Federation 2006/03 metadata of a
// token issuer, the way Exchange reads it (docs/protocol.md §4.5): the issuer's URI,
// its WS-Trust endpoint and its current and previous signing certificates;
// and the PEM form in which the store keeps those certificates.
package wsfed

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/soap"
)

// Metadata is what Exchange reads from a token issuer's WS-Federation
// 2006/03 metadata document. docs/protocol.md §4.5.
type Metadata struct {
	IssuerURI string
	Endpoint  string            // the WS-Trust endpoint (TokenIssuerEpr)
	Current   *x509.Certificate // signing certificate
	Previous  *x509.Certificate // optional
}

const (
	nsFed  = fedtoken.NSFed
	nsWSU  = fedtoken.NSWSU
	nsWSA  = fedtoken.NSWSA
	nsWSSE = fedtoken.NSWSSE
	nsDSig = fedtoken.NSDSig
)

// ErrMetadata is wrapped by every metadata error.
var ErrMetadata = errors.New("wsfed: unusable token issuer metadata")

// ParseMetadata reads the nodes Exchange reads (its XPaths, docs/protocol.md §4.5),
// drops expired certificates, and swaps current and previous when the
// previous outlives the current, as Exchange does.
func ParseMetadata(data []byte, now time.Time) (*Metadata, error) {
	if _, err := soap.CheckLimits(data, soap.Limits{MaxBytes: 1 << 20, MaxDepth: 40, MaxElements: 20000}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMetadata, err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMetadata, err)
	}
	if doc.Root() == nil {
		return nil, fmt.Errorf("%w: no root element", ErrMetadata)
	}
	find := func(within *etree.Element, ns, local string) []*etree.Element {
		var out []*etree.Element
		var w func(*etree.Element)
		w = func(e *etree.Element) {
			if e.Tag == local && e.NamespaceURI() == ns {
				out = append(out, e)
			}
			for _, c := range e.ChildElements() {
				w(c)
			}
		}
		w(within)
		return out
	}
	for _, fed := range find(doc.Root(), nsFed, "Federation") {
		m := &Metadata{}
		for _, n := range find(fed, nsFed, "IssuerName") {
			if m.IssuerURI == "" {
				m.IssuerURI = strings.TrimSpace(n.SelectAttrValue("uri", ""))
			}
		}
		if m.IssuerURI == "" {
			continue
		}
		for _, tsk := range find(fed, nsFed, "TokenSigningKeyInfo") {
			id := ""
			for _, a := range tsk.Attr {
				if a.Key == "Id" && (a.NamespaceURI() == nsWSU || a.Space == "wsu") {
					id = a.Value
				}
			}
			certs := find(tsk, nsDSig, "X509Certificate")
			if len(certs) == 0 {
				continue
			}
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(certs[0].Text()), ""))
			if err != nil {
				return nil, fmt.Errorf("%w: certificate %s is not base64", ErrMetadata, id)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("%w: certificate %s: %v", ErrMetadata, id, err)
			}
			switch id {
			case "stscer":
				m.Current = c
			case "stsbcer":
				m.Previous = c
			}
		}
		for _, ep := range find(fed, nsFed, "TargetServiceEndpoint") {
			for _, a := range find(ep, nsWSA, "Address") {
				if m.Endpoint == "" {
					m.Endpoint = strings.TrimSpace(a.Text())
				}
			}
		}
		if m.Current == nil {
			return nil, fmt.Errorf("%w: no current signing certificate (stscer)", ErrMetadata)
		}
		if m.Endpoint == "" {
			return nil, fmt.Errorf("%w: no TargetServiceEndpoint address", ErrMetadata)
		}
		if m.Previous != nil && m.Previous.NotAfter.After(m.Current.NotAfter) {
			m.Current, m.Previous = m.Previous, m.Current
		}
		if m.Previous != nil && now.After(m.Previous.NotAfter) {
			m.Previous = nil
		}
		if now.After(m.Current.NotAfter) {
			if m.Previous == nil {
				return nil, fmt.Errorf("%w: every signing certificate has expired", ErrMetadata)
			}
			m.Current, m.Previous = m.Previous, nil
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: no Federation element with an IssuerName", ErrMetadata)
}

// Certificates returns the signing certificates, current first.
func (m *Metadata) Certificates() []*x509.Certificate {
	if m.Previous != nil {
		return []*x509.Certificate{m.Current, m.Previous}
	}
	return []*x509.Certificate{m.Current}
}

// EncodeCertificates writes certificates as PEM, for the store.
func EncodeCertificates(cs []*x509.Certificate) string {
	var b bytes.Buffer
	for _, c := range cs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.String()
}

// DecodeCertificates reads PEM certificates.
func DecodeCertificates(s string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return out, nil
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

// WriteMetadata renders a metadata document for an issuer (the
// development token issuer serves it).
func WriteMetadata(m *Metadata) []byte {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	root := doc.CreateElement("fed:FederationMetadata")
	for p, ns := range map[string]string{"fed": nsFed, "wsu": nsWSU, "wsse": nsWSSE, "ds": nsDSig, "wsa": nsWSA} {
		root.CreateAttr("xmlns:"+p, ns)
	}
	fed := root.CreateElement("fed:Federation")
	for _, pair := range []struct {
		id string
		c  *x509.Certificate
	}{{"stscer", m.Current}, {"stsbcer", m.Previous}} {
		if pair.c == nil {
			continue
		}
		k := fed.CreateElement("fed:TokenSigningKeyInfo")
		k.CreateAttr("wsu:Id", pair.id)
		k.CreateElement("wsse:SecurityTokenReference").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
			SetText(base64.StdEncoding.EncodeToString(pair.c.Raw))
	}
	fed.CreateElement("fed:IssuerNamesOffered").CreateElement("fed:IssuerName").CreateAttr("uri", m.IssuerURI)
	fed.CreateElement("fed:TargetServiceEndpoint").CreateElement("wsa:EndpointReference").CreateElement("wsa:Address").SetText(m.Endpoint)
	fed.CreateElement("fed:WebRequestorRedirectEndpoint").CreateElement("wsa:EndpointReference").CreateElement("wsa:Address").SetText(m.Endpoint)
	doc.Indent(2)
	b, _ := doc.WriteToBytes()
	return b
}

package conformance

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/beevik/etree"
)

// secretHeaders never enter a corpus.
var secretHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Calfed-Admin-Token"}

// secretElements are the XML elements that carry credentials or tokens:
// a case holding one is refused.
var secretElements = map[string]bool{
	"Security":               true, // wsse:Security, with whatever token it carries
	"EncryptedData":          true,
	"EncryptedAssertion":     true,
	"BinarySecurityToken":    true,
	"BinarySecret":           true,
	"UsernameToken":          true,
	"Password":               true,
	"RequestedProofToken":    true,
	"RequestedSecurityToken": true,
}

// Redact removes c's secrets: the headers that carry credentials (the
// replay supplies its own) and, in XML bodies, the security header and
// any credential element. It records how the request authenticated.
func Redact(c *Case) error {
	for k, v := range c.Request.Headers {
		if !isSecretHeader(k) {
			continue
		}
		if strings.EqualFold(k, "Authorization") && c.Request.Auth == "" {
			if strings.HasPrefix(strings.ToLower(v), "basic ") {
				c.Request.Auth = AuthBasic
			}
		}
		delete(c.Request.Headers, k)
	}
	for k := range c.Response.Headers {
		if isSecretHeader(k) {
			delete(c.Response.Headers, k)
		}
	}
	var err error
	var hadToken bool
	if c.RequestBody, hadToken, err = redactXML(c.RequestBody); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	if hadToken && c.Request.Auth == "" {
		c.Request.Auth = AuthToken
	}
	if c.ResponseBody, _, err = redactXML(c.ResponseBody); err != nil {
		return fmt.Errorf("response body: %w", err)
	}
	return nil
}

func isSecretHeader(k string) bool {
	for _, s := range secretHeaders {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}

// redactXML drops the secret elements of an XML body; a body that is not
// XML is returned as it is (CheckSecrets still looks at it).
func redactXML(body []byte) ([]byte, bool, error) {
	if !looksXML(body) {
		return body, false, nil
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		return body, false, nil // not XML after all: left for CheckSecrets
	}
	found := false
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		for _, ch := range e.ChildElements() {
			if isSecret(ch) {
				e.RemoveChild(ch)
				found = true
				continue
			}
			walk(ch)
		}
	}
	if doc.Root() != nil {
		walk(doc.Root())
	}
	if !found {
		return body, false, nil
	}
	out, err := doc.WriteToBytes()
	return out, found, err
}

// isSecret: a credential element, or a security header with something in
// it (an empty one carries nothing and is kept as it was).
func isSecret(e *etree.Element) bool {
	if e.Tag == "Security" {
		return len(e.ChildElements()) > 0
	}
	return secretElements[e.Tag]
}

func looksXML(b []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))), []byte("<"))
}

// CheckSecrets refuses a case that carries a credential anywhere: a
// secret header, a security element, or a Basic credential in a body.
func CheckSecrets(c *Case) error {
	for _, h := range []map[string]string{c.Request.Headers, c.Response.Headers} {
		for k := range h {
			if isSecretHeader(k) {
				return fmt.Errorf("holds a secret: header %s", k)
			}
		}
	}
	for name, body := range map[string][]byte{"request": c.RequestBody, "response": c.ResponseBody} {
		if bytes.Contains(bytes.ToLower(body), []byte("authorization: basic ")) {
			return fmt.Errorf("holds a secret: a Basic credential in the %s body", name)
		}
		if !looksXML(body) {
			continue
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(body); err != nil || doc.Root() == nil {
			continue
		}
		var bad string
		var walk func(e *etree.Element)
		walk = func(e *etree.Element) {
			if bad != "" {
				return
			}
			if isSecret(e) {
				bad = e.Tag
				return
			}
			for _, ch := range e.ChildElements() {
				walk(ch)
			}
		}
		walk(doc.Root())
		if bad != "" {
			return fmt.Errorf("holds a secret: element %s in the %s body", bad, name)
		}
	}
	return nil
}

// headerMap keeps the headers of h a case records (all but the secret
// and the hop-by-hop ones).
func headerMap(h http.Header, keep func(string) bool) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if isSecretHeader(k) || !keep(k) {
			continue
		}
		out[k] = strings.Join(v, ", ")
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

package conformance

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Import reads captured exchanges from data, in the format its name says
// (.har: HAR 1.2 as browsers and Fiddler export it; .xml: request and
// response documents one after the other, as the protocol examples are;
// anything else: a raw HTTP request followed by its raw response). Every
// case is redacted and checked; name prefixes the case names. A captured
// delegation token is encrypted to someone else's key, so federated
// exchanges take their requester and audience from token; without it
// they are refused.
func Import(name string, data []byte, prefix string, token *TokenClaims) ([]*Case, error) {
	var cases []*Case
	var err error
	switch {
	case strings.HasSuffix(strings.ToLower(name), ".har"):
		cases, err = importHAR(data)
	case strings.HasSuffix(strings.ToLower(name), ".xml"):
		cases, err = importXMLPairs(data)
	default:
		var c *Case
		c, err = importRawHTTP(data)
		cases = []*Case{c}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for i, c := range cases {
		c.Name = fmt.Sprintf("%s%s-%02d", prefix, operation(c.Request.Path, c.RequestBody), i+1)
		if c.Source == "" {
			c.Source = "imported from " + name
		}
		if err := finish(c, token); err != nil {
			return nil, fmt.Errorf("%s: exchange %d: %w", name, i+1, err)
		}
	}
	return cases, nil
}

// ErrCapture marks the errors of ImportFiles that are about a capture it
// cannot use, as opposed to a file it cannot read.
var ErrCapture = errors.New("conformance: unusable capture")

// ImportFiles imports (Import) the captures in files, each named by its
// base name, and marks every case as assuming fixture. Every file is read
// and imported before any case is returned, so that one unusable capture
// keeps all of them from being saved.
func ImportFiles(files []string, prefix, fixture string, token *TokenClaims) ([]*Case, error) {
	var all []*Case
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		cases, err := Import(filepath.Base(f), data, prefix, token)
		if err != nil {
			return nil, captureError{err}
		}
		for _, c := range cases {
			c.Fixture = fixture
		}
		all = append(all, cases...)
	}
	return all, nil
}

// captureError is an error of Import, marked ErrCapture and read as it.
type captureError struct{ err error }

func (e captureError) Error() string   { return e.err.Error() }
func (e captureError) Unwrap() []error { return []error{e.err, ErrCapture} }

// finish redacts c, fills its defaults and checks it; a federated
// exchange takes token as its token's claims. Importer and recorder share it.
func finish(c *Case, token *TokenClaims) error {
	if err := Redact(c); err != nil {
		return err
	}
	if c.Request.Auth == "" {
		c.Request.Auth = AuthNone
	}
	if c.Request.Auth == AuthToken {
		if token == nil || token.Requester == "" || token.Audience == "" {
			return errors.New("a federated exchange whose token's claims are not known: they cannot be read from the captured token (conformance import takes -requester and -audience)")
		}
		t := *token
		if t.Offer == "" {
			t.Offer = "MSExchange.SharingCalendarFreeBusy"
			if strings.Contains(strings.ToLower(c.Request.Path), "/autodiscover/") {
				t.Offer = "MSExchange.Autodiscover"
			}
		}
		c.Request.Token = &t
	}
	if c.Compare == "" {
		c.Compare = CompareXML
		switch {
		case len(c.ResponseBody) == 0:
			c.Compare = CompareStatus
		case bytes.Contains(c.ResponseBody, []byte("FreeBusyView")):
			c.Compare = CompareFreeBusy
		}
	}
	return c.Validate()
}

type harFile struct {
	Log struct {
		Entries []struct {
			Started string `json:"startedDateTime"`
			Request struct {
				Method   string      `json:"method"`
				URL      string      `json:"url"`
				Headers  []harHeader `json:"headers"`
				PostData *struct {
					Text string `json:"text"`
				} `json:"postData"`
			} `json:"request"`
			Response struct {
				Status  int         `json:"status"`
				Headers []harHeader `json:"headers"`
				Content struct {
					Text     string `json:"text"`
					Encoding string `json:"encoding"`
				} `json:"content"`
			} `json:"response"`
		} `json:"entries"`
	} `json:"log"`
}

type harHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func harHeaders(hs []harHeader) http.Header {
	h := http.Header{}
	for _, x := range hs {
		if !strings.HasPrefix(x.Name, ":") { // HTTP/2 pseudo-headers
			h.Add(x.Name, x.Value)
		}
	}
	return h
}

func importHAR(data []byte) ([]*Case, error) {
	var f harFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a HAR file: %w", err)
	}
	if len(f.Log.Entries) == 0 {
		return nil, errors.New("the HAR file holds no entries")
	}
	var out []*Case
	for i, e := range f.Log.Entries {
		u, err := url.Parse(e.Request.URL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("entry %d: url %q", i+1, e.Request.URL)
		}
		c := &Case{Origin: u.Scheme + "://" + u.Host}
		c.Captured, _ = time.Parse(time.RFC3339Nano, e.Started)
		c.Request = Request{Method: e.Request.Method, Path: u.RequestURI()}
		reqHeaders := harHeaders(e.Request.Headers)
		c.Request.Headers = rawHeaders(reqHeaders, requestHeaders)
		basicAuth(c, reqHeaders)
		if e.Request.PostData != nil && e.Request.PostData.Text != "" {
			c.RequestBody = []byte(e.Request.PostData.Text)
		}
		c.Response = Response{Status: e.Response.Status, Headers: rawHeaders(harHeaders(e.Response.Headers), responseHeaders)}
		switch e.Response.Content.Encoding {
		case "base64":
			if c.ResponseBody, err = base64.StdEncoding.DecodeString(e.Response.Content.Text); err != nil {
				return nil, fmt.Errorf("entry %d: response content: %w", i+1, err)
			}
		case "":
			if e.Response.Content.Text != "" {
				c.ResponseBody = []byte(e.Response.Content.Text)
			}
		default:
			return nil, fmt.Errorf("entry %d: response content encoding %q", i+1, e.Response.Content.Encoding)
		}
		out = append(out, c)
	}
	return out, nil
}

// rawHeaders keeps the headers a case records, by canonical name.
func rawHeaders(h http.Header, keep map[string]bool) map[string]string {
	return headerMap(h, func(k string) bool { return keep[http.CanonicalHeaderKey(k)] })
}

// basicAuth notes a Basic credential's user (never its password).
func basicAuth(c *Case, h http.Header) {
	r := &http.Request{Header: h}
	if user, _, ok := r.BasicAuth(); ok {
		c.Request.Auth, c.Request.User = AuthBasic, user
	}
}

func importRawHTTP(data []byte) (*Case, error) {
	br := bufio.NewReader(bytes.NewReader(normaliseNewlines(data)))
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, fmt.Errorf("the request: %w", err)
	}
	reqBody, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("the request body: %w", err)
	}
	// Captures often end the request body without a blank line: skip
	// whitespace up to the status line.
	for {
		b, err := br.Peek(1)
		if err != nil || (b[0] != '\r' && b[0] != '\n') {
			break
		}
		br.ReadByte()
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, fmt.Errorf("the response: %w", err)
	}
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("the response body: %w", err)
	}
	c := &Case{Request: Request{Method: req.Method, Path: req.URL.RequestURI(), Headers: rawHeaders(req.Header, requestHeaders)},
		Response: Response{Status: resp.StatusCode, Headers: rawHeaders(resp.Header, responseHeaders)}}
	if req.Host != "" {
		c.Origin = "https://" + req.Host
	}
	basicAuth(c, req.Header)
	if len(reqBody) > 0 {
		c.RequestBody = reqBody
	}
	if len(respBody) > 0 {
		c.ResponseBody = respBody
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		c.Captured = d.UTC()
	}
	return c, nil
}

// normaliseNewlines makes a capture saved with bare LF readable as HTTP.
func normaliseNewlines(b []byte) []byte {
	if bytes.Contains(b, []byte("\r\n")) {
		return b
	}
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// importXMLPairs reads documents written one after the other (comments
// between them allowed), pairing each request with the response after it.
// The endpoint is inferred from the request's namespace.
func importXMLPairs(data []byte) ([]*Case, error) {
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, err
	}
	var out []*Case
	for i := 0; i < len(docs); i++ {
		path, ok := endpointOf(docs[i])
		if !ok {
			return nil, fmt.Errorf("document %d is not a request calfed knows (EWS, SOAP or POX Autodiscover)", i+1)
		}
		c := &Case{Request: Request{Method: "POST", Path: path, Headers: map[string]string{"Content-Type": "text/xml; charset=utf-8"}},
			Response: Response{Status: http.StatusOK}, RequestBody: render(docs[i])}
		if i+1 < len(docs) {
			if _, isRequest := endpointOf(docs[i+1]); !isRequest {
				c.ResponseBody = render(docs[i+1])
				if isFault(docs[i+1]) {
					c.Response.Status = http.StatusInternalServerError
				}
				i++
			}
		}
		if c.ResponseBody == nil {
			return nil, fmt.Errorf("document %d has no response after it", i+1)
		}
		out = append(out, c)
	}
	return out, nil
}

func splitDocuments(data []byte) ([]*etree.Element, error) {
	// Wrap the documents in one root so a single parse reads them all.
	body := bytes.TrimSpace(data)
	if bytes.HasPrefix(body, []byte("<?xml")) {
		if i := bytes.Index(body, []byte("?>")); i > 0 {
			body = body[i+2:]
		}
	}
	if bytes.Contains(body, []byte("<!DOCTYPE")) || bytes.Contains(body, []byte("<!ENTITY")) {
		return nil, errors.New("document type declarations are refused")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(append(append([]byte("<calfed-import>"), body...), []byte("</calfed-import>")...)); err != nil {
		return nil, err
	}
	docs := doc.Root().ChildElements()
	if len(docs) == 0 {
		return nil, errors.New("no XML documents")
	}
	return docs, nil
}

func render(e *etree.Element) []byte {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	doc.SetRoot(e.Copy())
	b, _ := doc.WriteToBytes()
	return b
}

const (
	nsEWSMessages  = "http://schemas.microsoft.com/exchange/services/2006/messages"
	nsAutodiscover = "http://schemas.microsoft.com/exchange/2010/Autodiscover"
	nsPOXRequest   = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
)

// endpointOf says where a request document is sent; responses are not
// requests.
func endpointOf(e *etree.Element) (string, bool) {
	if e.Tag == "Autodiscover" {
		return "/autodiscover/autodiscover.xml", e.NamespaceURI() == nsPOXRequest
	}
	if e.Tag != "Envelope" {
		return "", false
	}
	for _, part := range e.ChildElements() {
		if part.Tag != "Body" || len(part.ChildElements()) == 0 {
			continue
		}
		op := part.ChildElements()[0]
		if strings.HasSuffix(op.Tag, "Response") || strings.HasSuffix(op.Tag, "ResponseMessage") || op.Tag == "Fault" {
			return "", false
		}
		switch op.NamespaceURI() {
		case nsEWSMessages:
			return "/EWS/Exchange.asmx", true
		case nsAutodiscover:
			return "/autodiscover/autodiscover.svc", true
		}
	}
	return "", false
}

func isFault(e *etree.Element) bool {
	for _, part := range e.ChildElements() {
		if part.Tag == "Body" {
			for _, op := range part.ChildElements() {
				if op.Tag == "Fault" {
					return true
				}
			}
		}
	}
	return false
}

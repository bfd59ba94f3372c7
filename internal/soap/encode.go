package soap

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/calfed/calfed/internal/outbound"
)

// Envelope writes a complete envelope of version v. header and body write the
// contents of soap:Header and soap:Body; a nil header omits the element.
// ns are further namespace declarations for the Envelope element, as
// attribute name and value pairs ("xmlns:a", NSAddressing).
func Envelope(v Version, header, body func(*Writer), ns ...string) []byte {
	w := &Writer{B: make([]byte, 0, 4096)}
	EnvelopeHead(w, v, header, ns...)
	body(w)
	EnvelopeTail(w)
	return w.B
}

// EnvelopeHead writes an envelope up to the opening of soap:Body, for
// responses written in parts. The envelope prefix is always s.
//
// Header blocks should use prefixes declared here, on the Envelope, and
// write soap:mustUnderstand (as "s:mustUnderstand") as their first
// attribute: .NET's ASMX clients, Exchange's among them, refuse a response
// header they do not map that carries mustUnderstand, and Exchange's reader
// hides the attribute only when it comes first, namespace declarations
// counting as attributes. docs/protocol.md §2.1.
func EnvelopeHead(w *Writer, v Version, header func(*Writer), ns ...string) {
	w.B = append(w.B, `<?xml version="1.0" encoding="utf-8"?>`...)
	w.Start("s:Envelope", append([]string{"xmlns:s", v.Namespace()}, ns...)...)
	if header != nil {
		w.Start("s:Header")
		header(w)
		w.End("s:Header")
	}
	w.Start("s:Body", "xmlns:xsi", NSXSI, "xmlns:xsd", "http://www.w3.org/2001/XMLSchema")
}

// EnvelopeTail closes what EnvelopeHead opened.
func EnvelopeTail(w *Writer) {
	w.End("s:Body")
	w.End("s:Envelope")
}

// Fault is a SOAP fault. Code is the SOAP 1.2 code value ("Sender" or
// "Receiver"; SOAP 1.1 renders them as Client and Server when Subcode is
// empty). Subcode is a qualified name rendered as faultcode in SOAP 1.1 and
// as Subcode/Value in SOAP 1.2, as WCF does.
type Fault struct {
	Code      string // Sender or Receiver
	SubcodeNS string // namespace of Subcode
	Subcode   string // local name, e.g. ErrorTimeIntervalTooBig
	Reason    string
	Detail    func(*Writer) // may be nil
}

// Write renders f inside an envelope of version v.
func (f Fault) Write(v Version, header func(*Writer)) []byte {
	return Envelope(v, header, func(w *Writer) {
		if v == V12 {
			w.Start("s:Fault")
			w.Start("s:Code")
			w.Elem("s:Value", "s:"+f.Code)
			if f.Subcode != "" {
				w.Start("s:Subcode")
				w.Elem("s:Value", "a:"+f.Subcode, "xmlns:a", f.SubcodeNS)
				w.End("s:Subcode")
			}
			w.End("s:Code")
			w.Start("s:Reason")
			w.Elem("s:Text", f.Reason, "xml:lang", "en-US")
			w.End("s:Reason")
			if f.Detail != nil {
				w.Start("s:Detail")
				f.Detail(w)
				w.End("s:Detail")
			}
			w.End("s:Fault")
			return
		}
		w.Start("s:Fault")
		switch {
		case f.Subcode != "":
			w.Elem("faultcode", "a:"+f.Subcode, "xmlns:a", f.SubcodeNS)
		case f.Code == "Receiver":
			w.Elem("faultcode", "s:Server")
		default:
			w.Elem("faultcode", "s:Client")
		}
		w.Elem("faultstring", f.Reason, "xml:lang", "en-US")
		if f.Detail != nil {
			w.Start("detail")
			f.Detail(w)
			w.End("detail")
		}
		w.End("s:Fault")
	})
}

// WriteResponse sends an envelope with the content type of v.
func WriteResponse(rw http.ResponseWriter, v Version, status int, body []byte) {
	rw.Header().Set("Content-Type", v.ContentType())
	rw.WriteHeader(status)
	rw.Write(body)
}

// Post sends a SOAP 1.1 request body to url and returns the answer's
// body, read within l, when the status is 200. hc nil means a client with
// a 30-second timeout. Callers decode the answer with Decode.
func Post(ctx context.Context, hc *http.Client, url string, body []byte, l Limits) ([]byte, error) {
	return PostAction(ctx, hc, url, "", body, l)
}

// StatusError is a SOAP answer whose HTTP status is not 200; Body holds
// what it said (a fault, usually), read within the limits.
type StatusError struct {
	URL    string
	Status int
	Body   []byte
}

func (e *StatusError) Error() string { return fmt.Sprintf("%s: HTTP %d", e.URL, e.Status) }

// PostAction is Post with a SOAPAction header, as ASMX services route by
// it; an empty action sends none. A status other than 200 is a
// *StatusError.
func PostAction(ctx context.Context, hc *http.Client, url, action string, body []byte, l Limits) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", V11.ContentType())
	if action != "" {
		req.Header.Set("SOAPAction", `"`+action+`"`)
	}
	if hc == nil {
		hc = outbound.Default().HTTP(30 * time.Second)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := ReadBody(resp.Body, l)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{URL: url, Status: resp.StatusCode, Body: data}
	}
	return data, nil
}

package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Limits bound what Decode accepts. The zero value applies the defaults.
type Limits struct {
	MaxBytes    int64 // body size in bytes; default 1 MiB
	MaxDepth    int   // element nesting; default 48
	MaxElements int   // elements in the whole document; default 20000
}

const (
	DefaultMaxBytes    = 1 << 20
	DefaultMaxDepth    = 48
	DefaultMaxElements = 20000
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	return l
}

// Errors returned by Decode. Each is wrapped with detail; match with errors.Is.
var (
	ErrTooLarge    = errors.New("soap: request body too large")
	ErrTooDeep     = errors.New("soap: elements nested too deeply")
	ErrTooMany     = errors.New("soap: too many elements")
	ErrDTD         = errors.New("soap: document type declarations are not allowed")
	ErrNotEnvelope = errors.New("soap: not a SOAP envelope")
	ErrMalformed   = errors.New("soap: malformed XML")
	ErrNoBody      = errors.New("soap: envelope has no body element")
)

// Handler receives the parts of an envelope while it is decoded. Each method
// must consume the element it is given (d.DecodeElement or d.Skip).
type Handler interface {
	// Header is called for every child of soap:Header, in document order.
	Header(d *xml.Decoder, start xml.StartElement) error
	// Body is called for the first child of soap:Body.
	Body(d *xml.Decoder, start xml.StartElement) error
}

// ReadRequest reads a request body of at most l.MaxBytes, growing its
// buffer as data arrives (never by the length a sender merely declares).
// A body put in place by SetBody (or Bounded) is returned as it is,
// without a copy.
func ReadRequest(r *http.Request, l Limits) ([]byte, error) {
	return ReadRequestInto(r, l, nil)
}

// ReadRequestInto is ReadRequest reading into buf's storage, for callers
// that reuse buffers.
func ReadRequestInto(r *http.Request, l Limits, buf []byte) ([]byte, error) {
	l = l.withDefaults()
	if m, ok := r.Body.(*memBody); ok && m.Len() == len(m.b) {
		if int64(len(m.b)) > l.MaxBytes {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.MaxBytes)
		}
		m.Reset(nil)
		return m.b, nil
	}
	if n := r.ContentLength; n > l.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes declared", ErrTooLarge, n)
	} else if n > 0 && n <= readChunk && cap(buf) == 0 {
		buf = make([]byte, 0, n+1) // a small declared length may size the buffer; +1 sees EOF
	}
	return readInto(r.Body, l, buf)
}

// ReadBody reads at most l.MaxBytes from r, returning ErrTooLarge beyond that.
func ReadBody(r io.Reader, l Limits) ([]byte, error) {
	return readInto(r, l.withDefaults(), nil)
}

func readInto(r io.Reader, l Limits, buf []byte) ([]byte, error) {
	b, err := readBudgeted(r, l.MaxBytes, nil, buf)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > l.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.MaxBytes)
	}
	return b, nil
}

// memBody is a request body already in memory, with its operation once
// RequestOperation has found it.
type memBody struct {
	bytes.Reader
	b     []byte
	found bool // op and opOK are set
	op    xml.Name
	opOK  bool
}

func (*memBody) Close() error { return nil }

// SetBody replaces r's body with b, which the next ReadRequest returns
// without copying: a middleware that has read and checked the body (the
// WS-Security guard) hands it on as it is. b must stay untouched until the
// handler returns.
func SetBody(r *http.Request, b []byte) {
	m := &memBody{b: b}
	m.Reset(b)
	r.Body = m
	r.ContentLength = int64(len(b))
}

// RequestOperation is Operation of r's body, for the wrappers that route
// or record a request by its operation. A body not yet in memory is read
// (ReadRequest) and put back (SetBody); either way the handler reads it
// unread and without a copy, and the operation is found once however
// many wrappers ask. ok is false when the body cannot be read within l,
// as when Operation finds none.
func RequestOperation(r *http.Request, l Limits) (xml.Name, bool) {
	m, ok := r.Body.(*memBody)
	if !ok || m.Len() != len(m.b) {
		body, err := ReadRequest(r, l)
		if err != nil {
			return xml.Name{}, false
		}
		SetBody(r, body)
		m = r.Body.(*memBody)
	}
	if int64(len(m.b)) > l.withDefaults().MaxBytes {
		return xml.Name{}, false
	}
	if !m.found {
		m.op, m.opOK = Operation(m.b, l)
		m.found = true
	}
	return m.op, m.opOK
}

// Decode parses the envelope in data, calling h for each header block and for
// the body's operation element. Errors from h are returned unchanged.
func Decode(data []byte, l Limits, h Handler) (Version, error) {
	l = l.withDefaults()
	if int64(len(data)) > l.MaxBytes {
		return V11, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(data))
	}
	if err := scanLimits(data, l); err != nil {
		return V11, err
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	var ver Version
	root, err := nextStart(d)
	if err != nil {
		return ver, err
	}
	switch {
	case root.Name.Local == "Envelope" && root.Name.Space == NS11:
		ver = V11
	case root.Name.Local == "Envelope" && root.Name.Space == NS12:
		ver = V12
	default:
		return ver, fmt.Errorf("%w: root element {%s}%s", ErrNotEnvelope, root.Name.Space, root.Name.Local)
	}
	ns := ver.Namespace()
	sawBody := false
	for {
		t, err := d.Token()
		if err != nil {
			return ver, wrapSyntax(err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Space == ns && t.Name.Local == "Header":
				if err := eachChild(d, func(se xml.StartElement) error { return h.Header(d, se) }); err != nil {
					return ver, err
				}
			case t.Name.Space == ns && t.Name.Local == "Body":
				sawBody = true
				first := true
				err := eachChild(d, func(se xml.StartElement) error {
					if !first {
						return d.Skip()
					}
					first = false
					return h.Body(d, se)
				})
				if err != nil {
					return ver, err
				}
				if first {
					return ver, fmt.Errorf("%w: soap:Body is empty", ErrNoBody)
				}
			default:
				if err := d.Skip(); err != nil {
					return ver, wrapSyntax(err)
				}
			}
		case xml.EndElement:
			if !sawBody {
				return ver, ErrNoBody
			}
			return ver, nil
		}
	}
}

func nextStart(d *xml.Decoder) (xml.StartElement, error) {
	for {
		t, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return xml.StartElement{}, fmt.Errorf("%w: empty document", ErrNotEnvelope)
			}
			return xml.StartElement{}, wrapSyntax(err)
		}
		if se, ok := t.(xml.StartElement); ok {
			return se, nil
		}
	}
}

// eachChild calls f for each child element of the element whose start tag
// was just read, and consumes its end tag.
func eachChild(d *xml.Decoder, f func(xml.StartElement) error) error {
	for {
		t, err := d.Token()
		if err != nil {
			return wrapSyntax(err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			if err := f(t); err != nil {
				return wrapSyntax(err)
			}
		case xml.EndElement:
			return nil
		}
	}
}

func wrapSyntax(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) || err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return err
}

// CheckLimits applies the size, depth, element count and no-DTD checks to
// any XML document, not only envelopes. It returns the number of elements.
func CheckLimits(data []byte, l Limits) (int, error) {
	l = l.withDefaults()
	if int64(len(data)) > l.MaxBytes {
		return 0, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(data))
	}
	return 0, scanLimits(data, l)
}

// scanLimits checks depth, element count and the absence of document type
// declarations in one pass over the bytes, before the (much slower) XML
// decoder sees them. It follows tags, quoted attribute values, comments,
// CDATA sections and processing instructions; on malformed input it may
// count loosely, and the decoder then refuses the document anyway.
func scanLimits(data []byte, l Limits) error {
	depth, count := 0, 0
	for i := 0; i < len(data); i++ {
		if data[i] != '<' {
			continue
		}
		if i+1 >= len(data) {
			return nil
		}
		switch data[i+1] {
		case '/':
			depth--
			i = skipPast(data, i, ">")
		case '?':
			i = skipPast(data, i, "?>")
		case '!':
			switch {
			case bytes.HasPrefix(data[i:], []byte("<!--")):
				i = skipPast(data, i+4, "-->")
			case bytes.HasPrefix(data[i:], []byte("<![CDATA[")):
				i = skipPast(data, i+9, "]]>")
			default:
				return ErrDTD
			}
		default:
			depth++
			count++
			if depth > l.MaxDepth {
				return fmt.Errorf("%w: deeper than %d", ErrTooDeep, l.MaxDepth)
			}
			if count > l.MaxElements {
				return fmt.Errorf("%w: more than %d", ErrTooMany, l.MaxElements)
			}
			var quote byte
			j := i + 1
			for ; j < len(data); j++ {
				c := data[j]
				if quote != 0 {
					if c == quote {
						quote = 0
					}
					continue
				}
				if c == '"' || c == '\'' {
					quote = c
				} else if c == '>' {
					break
				}
			}
			if j < len(data) && data[j-1] == '/' {
				depth--
			}
			i = j
		}
	}
	return nil
}

// skipPast returns the index of the last byte of the first end at or after
// from, or len(data) when there is none.
func skipPast(data []byte, from int, end string) int {
	k := bytes.Index(data[from:], []byte(end))
	if k < 0 {
		return len(data)
	}
	return from + k + len(end) - 1
}

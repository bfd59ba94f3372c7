package federation

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/calfed/calfed/internal/soap"
)

// The one parse of a WS-Security request: a single bounded pass over the
// bytes that enforces the request limits (size, element depth, element
// count, no DTD) and finds the one wsse:Security header of the envelope and
// the one xenc:EncryptedData in it. It resolves namespace prefixes, so a
// look-alike in another namespace, a comment or the body does not count.
// It reads the envelope as etree would (FuzzScanEnvelope compares them);
// where it cannot decide without decoding text (a namespace written with a
// character reference, a second root element) it still checks the limits
// and then says so, and the guard parses that rare request with etree.

// tokenLocation is where the token is in a request.
type tokenLocation struct {
	secStart, secEnd int      // the wsse:Security header, [start, end)
	edStart, edEnd   int      // the xenc:EncryptedData in it
	scope            []nsDecl // the declarations in scope at the EncryptedData's start tag, outermost first
}

type nsDecl struct{ prefix, ns []byte }

// errUnsure: the scan cannot decide; parse the request with etree.
var errUnsure = errors.New("federation: the envelope needs a full parse")

type scanFrame struct {
	name      []byte // as written, prefix and all
	ns, local []byte
	declFrom  int // its declarations are decls[declFrom:] of the next frame's declFrom
}

// scanEnvelope finds the token in b within l. Its errors are soap's limit
// errors, ErrNoToken (no envelope, no header, no single token, or not
// well-formed), ErrMalformed (two Security headers) and errUnsure.
func scanEnvelope(b []byte, l soap.Limits) (tokenLocation, error) {
	if l.MaxBytes <= 0 {
		l.MaxBytes = soap.DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = soap.DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = soap.DefaultMaxElements
	}
	var loc tokenLocation
	if int64(len(b)) > l.MaxBytes {
		return loc, fmt.Errorf("%w: %d bytes", soap.ErrTooLarge, len(b))
	}
	// The open elements and their namespace declarations, on the stack
	// for the usual envelope.
	var stackBuf [32]scanFrame
	var declBuf [32]nsDecl
	stack, decls := stackBuf[:0], declBuf[:0]
	var envNS []byte
	roots, headers, secs, eds, count := 0, 0, 0, 0, 0
	unsure := false
	inHeader, inSec := false, false // inside the first Header, inside the one Security
	loc.secStart, loc.edStart = -1, -1
	i := 0
	for i < len(b) {
		k := bytes.IndexByte(b[i:], '<')
		text := b[i:]
		if k >= 0 {
			text = b[i : i+k]
		}
		if !validText(text) {
			return loc, ErrNoToken
		}
		if k < 0 {
			break
		}
		i += k
		if i+1 >= len(b) {
			return loc, ErrNoToken
		}
		switch b[i+1] {
		case '?':
			e := bytes.Index(b[i+2:], []byte("?>"))
			if e < 0 {
				return loc, ErrNoToken
			}
			i += 2 + e + 2
			continue
		case '!':
			switch {
			case bytes.HasPrefix(b[i:], []byte("<!--")):
				e := bytes.Index(b[i+4:], []byte("--"))
				if e < 0 || i+4+e+2 >= len(b) || b[i+4+e+2] != '>' {
					return loc, ErrNoToken // unterminated, or "--" inside a comment
				}
				i += 4 + e + 3
			case bytes.HasPrefix(b[i:], []byte("<![CDATA[")):
				if len(stack) == 0 {
					return loc, ErrNoToken
				}
				e := bytes.Index(b[i+9:], []byte("]]>"))
				if e < 0 {
					return loc, ErrNoToken
				}
				i += 9 + e + 3
			default:
				return loc, soap.ErrDTD
			}
			continue
		case '/':
			j := bytes.IndexByte(b[i:], '>')
			if j < 0 || len(stack) == 0 {
				return loc, ErrNoToken
			}
			name := bytes.TrimRight(b[i+2:i+j], " \t\r\n")
			top := stack[len(stack)-1]
			if !bytes.Equal(name, top.name) {
				return loc, ErrNoToken
			}
			end := i + j + 1
			stack = stack[:len(stack)-1]
			decls = decls[:top.declFrom]
			switch len(stack) {
			case 3:
				if inSec && loc.edStart >= 0 && loc.edEnd == 0 && string(top.ns) == nsXEnc && string(top.local) == "EncryptedData" {
					loc.edEnd = end
				}
			case 2:
				if inSec && string(top.ns) == nsWSSE && string(top.local) == "Security" {
					loc.secEnd = end
					inSec = false
				}
			case 1:
				inHeader = false
			}
			i = end
			continue
		}
		// A start tag: name, attributes, maybe self-closing.
		count++
		if count > l.MaxElements {
			return loc, fmt.Errorf("%w: more than %d", soap.ErrTooMany, l.MaxElements)
		}
		if len(stack)+1 > l.MaxDepth {
			return loc, fmt.Errorf("%w: deeper than %d", soap.ErrTooDeep, l.MaxDepth)
		}
		if len(stack) == 0 {
			if roots++; roots > 1 {
				unsure = true // etree reads the first root; so would we, but why guess
			}
		}
		start := i
		j := i + 1
		for j < len(b) && !isSpace(b[j]) && b[j] != '>' && b[j] != '/' {
			j++
		}
		name := b[i+1 : j]
		if !validName(name) {
			return loc, ErrNoToken
		}
		f := scanFrame{name: name, declFrom: len(decls)}
		selfClose := false
		for {
			sp := j
			for j < len(b) && isSpace(b[j]) {
				j++
			}
			if j >= len(b) {
				return loc, ErrNoToken
			}
			if b[j] == '>' {
				j++
				break
			}
			if b[j] == '/' {
				if j+1 < len(b) && b[j+1] == '>' {
					selfClose = true
					j += 2
					break
				}
				return loc, ErrNoToken
			}
			if sp == j {
				return loc, ErrNoToken // attributes need space between them
			}
			k := j
			for k < len(b) && b[k] != '=' && !isSpace(b[k]) && b[k] != '>' && b[k] != '/' {
				k++
			}
			attr := b[j:k]
			if !validName(attr) {
				return loc, ErrNoToken
			}
			for k < len(b) && isSpace(b[k]) {
				k++
			}
			if k >= len(b) || b[k] != '=' {
				return loc, ErrNoToken
			}
			k++
			for k < len(b) && isSpace(b[k]) {
				k++
			}
			if k >= len(b) || (b[k] != '"' && b[k] != '\'') {
				return loc, ErrNoToken
			}
			q := b[k]
			e := bytes.IndexByte(b[k+1:], q)
			if e < 0 {
				return loc, ErrNoToken
			}
			val := b[k+1 : k+1+e]
			if bytes.IndexByte(val, '<') >= 0 || !validText(val) {
				return loc, ErrNoToken
			}
			isDecl := string(attr) == "xmlns" || (len(attr) > 6 && string(attr[:6]) == "xmlns:" && bytes.IndexByte(attr[6:], ':') < 0)
			if isDecl {
				if bytes.IndexByte(val, '&') >= 0 || bytes.ContainsAny(val, "\t\n\r") {
					unsure = true // the value needs decoding
				}
				if string(attr) == "xmlns" {
					decls = append(decls, nsDecl{nil, val})
				} else {
					decls = append(decls, nsDecl{attr[6:], val})
				}
			}
			j = k + 1 + e + 1
		}
		prefix, local := splitName(name)
		stack = append(stack, f)
		ns := lookup(stack, decls, prefix)
		top := &stack[len(stack)-1]
		top.ns, top.local = ns, local
		switch depth := len(stack); {
		case roots > 1:
		case depth == 1:
			if string(local) != "Envelope" || (string(ns) != soap.NS11 && string(ns) != soap.NS12) {
				return loc, ErrNoToken
			}
			envNS = ns
		case depth == 2:
			if string(local) == "Header" && bytes.Equal(ns, envNS) {
				headers++
				inHeader = headers == 1
			}
		case depth == 3 && inHeader && string(ns) == nsWSSE && string(local) == "Security":
			if secs++; secs == 1 {
				loc.secStart = start
				inSec = true
			}
		case depth == 4 && inSec && string(ns) == nsXEnc && string(local) == "EncryptedData":
			if eds++; eds == 1 {
				loc.edStart = start
				loc.scope = inScope(stack[:len(stack)-1], decls[:f.declFrom])
			}
		}
		if selfClose {
			stack = stack[:len(stack)-1]
			decls = decls[:f.declFrom]
			switch len(stack) {
			case 3:
				if inSec && loc.edStart == start {
					loc.edEnd = j
				}
			case 2:
				if inSec && loc.secStart == start {
					loc.secEnd = j
					inSec = false
				}
			case 1:
				inHeader = false
			}
		}
		i = j
	}
	switch {
	case len(stack) != 0 || roots == 0:
		return loc, ErrNoToken
	case unsure:
		return loc, errUnsure
	case headers != 1 || secs == 0:
		return loc, ErrNoToken
	case secs > 1:
		return loc, ErrMalformed // which one would count? neither
	case eds != 1:
		return loc, ErrNoToken
	}
	return loc, nil
}

// lookup resolves prefix as etree does: the innermost element declaring
// it, and on that element the first declaration.
func lookup(stack []scanFrame, decls []nsDecl, prefix []byte) []byte {
	end := len(decls)
	for i := len(stack) - 1; i >= 0; i-- {
		for _, d := range decls[stack[i].declFrom:end] {
			if bytes.Equal(d.prefix, prefix) {
				return d.ns
			}
		}
		end = stack[i].declFrom
	}
	return nil
}

// inScope is the declarations in effect inside the open elements stack,
// one per prefix.
func inScope(stack []scanFrame, decls []nsDecl) []nsDecl {
	out := make([]nsDecl, 0, len(decls))
	end := len(decls)
	for i := len(stack) - 1; i >= 0; i-- {
	next:
		for _, d := range decls[stack[i].declFrom:end] {
			for _, o := range out {
				if bytes.Equal(o.prefix, d.prefix) && (o.prefix == nil) == (d.prefix == nil) {
					continue next
				}
			}
			out = append(out, d)
		}
		end = stack[i].declFrom
	}
	return out
}

// splitName splits a qualified name as encoding/xml does: a name without
// a colon, or with nothing before or after it, has no prefix.
func splitName(name []byte) (prefix, local []byte) {
	c := bytes.IndexByte(name, ':')
	if c <= 0 || c == len(name)-1 {
		return nil, name
	}
	return name[:c], name[c+1:]
}

// validName accepts what encoding/xml accepts as a name (ASCII rules; any
// non-ASCII byte is left to it), with at most one colon.
func validName(n []byte) bool {
	if len(n) == 0 || bytes.Count(n, []byte(":")) > 1 {
		return false
	}
	for i, c := range n {
		switch {
		case c >= 0x80, c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// validText accepts character data whose references are the predefined
// entities or character references, and which has no "]]>".
func validText(t []byte) bool {
	if bytes.Contains(t, []byte("]]>")) {
		return false
	}
	for {
		a := bytes.IndexByte(t, '&')
		if a < 0 {
			return true
		}
		t = t[a+1:]
		s := bytes.IndexByte(t, ';')
		if s <= 0 {
			return false
		}
		ref := t[:s]
		switch string(ref) {
		case "lt", "gt", "amp", "apos", "quot":
		default:
			if !validCharRef(ref) {
				return false
			}
		}
		t = t[s+1:]
	}
}

func validCharRef(ref []byte) bool {
	if len(ref) < 2 || ref[0] != '#' {
		return false
	}
	digits, base := ref[1:], 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 || len(digits) > 8 {
		return false
	}
	n := 0
	for _, c := range digits {
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = int(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = int(c-'A') + 10
		default:
			return false
		}
		n = n*base + d
	}
	// XML 1.0 Char.
	return n == 0x9 || n == 0xA || n == 0xD || (n >= 0x20 && n <= 0xD7FF) || (n >= 0xE000 && n <= 0xFFFD) || (n >= 0x10000 && n <= 0x10FFFF)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

package federation

import (
	"bytes"
	"errors"

	"github.com/calfed/calfed/internal/soap"
)

// tokenSpan locates, without decoding any text, the one wsse:Security
// header of a SOAP envelope and the one xenc:EncryptedData inside it, as
// byte ranges [start, end). It resolves namespace prefixes, so it cannot
// be fooled by a look-alike in another namespace, a comment or the body;
// any doubt (none, two, malformed tags) is a failure and the request takes
// the full path.
func tokenSpan(b []byte) (secStart, secEnd, edStart, edEnd int, err error) {
	var stack []spanFrame
	lookup := func(prefix []byte) []byte {
		for i := len(stack) - 1; i >= 0; i-- {
			for _, d := range stack[i].decls {
				if bytes.Equal(d.prefix, prefix) {
					return d.ns
				}
			}
		}
		return nil
	}
	secs, eds := 0, 0
	secStart, edStart = -1, -1
	for i := 0; i < len(b); i++ {
		if b[i] != '<' {
			k := bytes.IndexByte(b[i:], '<')
			if k < 0 {
				break
			}
			i += k
		}
		if i+1 >= len(b) {
			return 0, 0, 0, 0, errSpan
		}
		switch b[i+1] {
		case '?':
			i = skipTo(b, i, "?>")
			continue
		case '!':
			switch {
			case bytes.HasPrefix(b[i:], []byte("<!--")):
				i = skipTo(b, i+4, "-->")
			case bytes.HasPrefix(b[i:], []byte("<![CDATA[")):
				i = skipTo(b, i+9, "]]>")
			default:
				return 0, 0, 0, 0, errSpan
			}
			continue
		case '/':
			j := bytes.IndexByte(b[i:], '>')
			if j < 0 || len(stack) == 0 {
				return 0, 0, 0, 0, errSpan
			}
			end := i + j + 1
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if string(top.ns) == nsXEnc && string(top.local) == "EncryptedData" && len(stack) == 3 {
				edEnd = end
			}
			if string(top.ns) == nsWSSE && string(top.local) == "Security" && len(stack) == 2 {
				secEnd = end
			}
			i = end - 1
			continue
		}
		// A start tag: name, attributes, maybe self-closing.
		j := i + 1
		for j < len(b) && !isSpace(b[j]) && b[j] != '>' && b[j] != '/' {
			j++
		}
		name := b[i+1 : j]
		f := spanFrame{start: i}
		selfClose := false
		for j < len(b) {
			for j < len(b) && isSpace(b[j]) {
				j++
			}
			if j >= len(b) {
				return 0, 0, 0, 0, errSpan
			}
			if b[j] == '>' {
				break
			}
			if b[j] == '/' && j+1 < len(b) && b[j+1] == '>' {
				selfClose = true
				j++
				break
			}
			k := j
			for k < len(b) && b[k] != '=' && !isSpace(b[k]) && b[k] != '>' {
				k++
			}
			attr := b[j:k]
			for k < len(b) && isSpace(b[k]) {
				k++
			}
			if k >= len(b) || b[k] != '=' {
				return 0, 0, 0, 0, errSpan
			}
			k++
			for k < len(b) && isSpace(b[k]) {
				k++
			}
			if k >= len(b) || (b[k] != '"' && b[k] != '\'') {
				return 0, 0, 0, 0, errSpan
			}
			q := b[k]
			e := bytes.IndexByte(b[k+1:], q)
			if e < 0 {
				return 0, 0, 0, 0, errSpan
			}
			val := b[k+1 : k+1+e]
			if bytes.IndexByte(val, '&') >= 0 {
				return 0, 0, 0, 0, errSpan // entities in a namespace: not here
			}
			switch {
			case string(attr) == "xmlns":
				f.decls = append(f.decls, spanDecl{nil, val})
			case len(attr) > 6 && string(attr[:6]) == "xmlns:":
				f.decls = append(f.decls, spanDecl{attr[6:], val})
			}
			j = k + 1 + e + 1
		}
		var prefix []byte
		local := name
		if c := bytes.IndexByte(name, ':'); c >= 0 {
			prefix, local = name[:c], name[c+1:]
		}
		stack = append(stack, f)
		ns := lookup(prefix)
		stack[len(stack)-1].ns, stack[len(stack)-1].local = ns, local
		depth := len(stack) // 1 Envelope, 2 Header, 3 Security, 4 EncryptedData
		switch {
		case depth == 3 && string(ns) == nsWSSE && string(local) == "Security" && isSOAP(stack[0].ns, stack[0].local, "Envelope") &&
			isSOAP(stack[1].ns, stack[1].local, "Header"):
			secs++
			secStart = i
		case depth == 4 && string(ns) == nsXEnc && string(local) == "EncryptedData" && secStart >= 0 && secs == 1 &&
			string(stack[2].local) == "Security" && string(stack[2].ns) == nsWSSE:
			eds++
			edStart = i
		}
		if depth == 2 && !(string(local) == "Header" || string(local) == "Body") {
			return 0, 0, 0, 0, errSpan
		}
		if selfClose {
			stack = stack[:len(stack)-1]
			if depth == 4 && edStart == i {
				edEnd = j + 1
			}
			if depth == 3 && secStart == i {
				secEnd = j + 1
			}
		}
		i = j
	}
	if secs != 1 || eds != 1 || len(stack) != 0 || secEnd <= secStart || edEnd <= edStart {
		return 0, 0, 0, 0, errSpan
	}
	return secStart, secEnd, edStart, edEnd, nil
}

var errSpan = errors.New("federation: no single token header found by the fast scan")

type spanFrame struct {
	ns, local []byte
	start     int
	decls     []spanDecl
}

type spanDecl struct{ prefix, ns []byte }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipTo(b []byte, from int, end string) int {
	k := bytes.Index(b[from:], []byte(end))
	if k < 0 {
		return len(b)
	}
	return from + k + len(end) - 1
}

func isSOAP(ns, local []byte, want string) bool {
	return string(local) == want && (string(ns) == soap.NS11 || string(ns) == soap.NS12)
}

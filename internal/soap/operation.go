package soap

import (
	"bytes"
	"encoding/xml"
)

// Operation returns the name of the first child of the soap:Body in data,
// for routing a request by operation before it is decoded in full. It
// reads only start and end tags, skipping the headers' content (a
// delegation token is kilobytes of base64) without decoding it, and
// resolves namespaces from the three tags that matter: the envelope, the
// body and the operation. ok is false when data is not an envelope with an
// operation, or holds a document type declaration; Decode then reports
// why. A malformed document may be routed anyway: the handler it reaches
// decodes it in full and refuses it.
func Operation(data []byte, l Limits) (name xml.Name, ok bool) {
	l = l.withDefaults()
	if int64(len(data)) > l.MaxBytes {
		return xml.Name{}, false
	}
	var root, body []byte // start tags
	depth := 0
	for i := 0; i < len(data); i++ {
		k := bytes.IndexByte(data[i:], '<')
		if k < 0 {
			return xml.Name{}, false
		}
		i += k
		if i+1 >= len(data) {
			return xml.Name{}, false
		}
		switch data[i+1] {
		case '?':
			i = skipPast(data, i, "?>")
			continue
		case '!':
			switch {
			case bytes.HasPrefix(data[i:], []byte("<!--")):
				i = skipPast(data, i+4, "-->")
			case bytes.HasPrefix(data[i:], []byte("<![CDATA[")):
				i = skipPast(data, i+9, "]]>")
			default:
				return xml.Name{}, false // a DTD
			}
			continue
		case '/':
			depth--
			if depth < 2 && body != nil || depth < 1 {
				return xml.Name{}, false // the body, or the envelope, ended without an operation
			}
			i = skipPast(data, i, ">")
			continue
		}
		end := tagEnd(data, i)
		if end >= len(data) {
			return xml.Name{}, false
		}
		tag := data[i : end+1]
		selfClosing := data[end-1] == '/'
		depth++
		switch {
		case depth == 1:
			if root != nil || selfClosing {
				return xml.Name{}, false
			}
			root = tag
		case depth == 2 && body == nil && string(localName(tag)) == "Body":
			names, ok := resolve(root, tag)
			if ok && names[0].Local == "Envelope" && (names[0].Space == NS11 || names[0].Space == NS12) && names[1].Space == names[0].Space {
				if selfClosing {
					return xml.Name{}, false
				}
				body = tag
			}
		case depth == 3 && body != nil:
			names, ok := resolve(root, body, tag)
			if !ok {
				return xml.Name{}, false
			}
			return names[2], true
		}
		if selfClosing {
			depth--
		}
		i = end
	}
	return xml.Name{}, false
}

// tagEnd returns the index of the '>' closing the tag that starts at
// data[i], skipping quoted attribute values; len(data) when there is none.
func tagEnd(data []byte, i int) int {
	var quote byte
	for j := i + 1; j < len(data); j++ {
		c := data[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return j
		}
	}
	return len(data)
}

// localName is a start tag's name without its prefix.
func localName(tag []byte) []byte {
	name := rawName(tag)
	if k := bytes.IndexByte(name, ':'); k >= 0 {
		name = name[k+1:]
	}
	return name
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// resolve returns the names of nested start tags, outermost first, with
// namespaces resolved from their own xmlns attributes: the common case,
// without a decoder and without allocating. Anything unusual (an entity
// in an attribute value, a malformed tag) goes to decode.
func resolve(tags ...[]byte) ([3]xml.Name, bool) {
	var names [3]xml.Name
	var room [16]decl
	var decls [3][]decl // per tag
	used := 0
	for i, t := range tags {
		if i < len(tags)-1 && t[len(t)-2] == '/' {
			return names, false
		}
		d, ok := xmlnsAttrs(t, room[used:used:len(room)])
		if !ok {
			return decode(tags...)
		}
		decls[i] = d
		used = min(used+len(d), len(room)) // past room, append moved d to the heap
	}
	for i, t := range tags {
		raw, local := rawName(t), localName(t)
		var prefix []byte
		if len(raw) > len(local) {
			prefix = raw[:len(raw)-len(local)-1]
		}
		var uri []byte
		found := false
		for j := i; j >= 0 && !found; j-- {
			for _, d := range decls[j] {
				if bytes.Equal(d.prefix, prefix) {
					uri, found = d.uri, true
				}
			}
		}
		if !found && len(prefix) > 0 {
			uri = prefix // as encoding/xml leaves an unbound prefix
		}
		names[i] = xml.Name{Space: intern(uri), Local: intern(local)}
	}
	return names, true
}

// decl is a namespace declaration in a start tag: its prefix (empty for
// the default namespace) and URI, within the tag.
type decl struct{ prefix, uri []byte }

// interned are the names Operation returns for the requests calfed
// serves, so that routing one allocates nothing.
var interned = func() map[string]string {
	m := map[string]string{}
	for _, s := range []string{NS11, NS12, "Envelope", "Body",
		"http://schemas.microsoft.com/exchange/services/2006/messages",
		"http://schemas.microsoft.com/exchange/2010/Autodiscover",
		"GetUserAvailabilityRequest", "GetMailTips", "GetServerTimeZones",
		"GetUserSettingsRequestMessage", "GetDomainSettingsRequestMessage",
		"GetFederationInformationRequestMessage", "GetOrganizationRelationshipSettingsRequestMessage"} {
		m[s] = s
	}
	return m
}()

func intern(b []byte) string {
	if s, ok := interned[string(b)]; ok {
		return s
	}
	return string(b)
}

// rawName is a start tag's qualified name.
func rawName(tag []byte) []byte {
	n := 1
	for n < len(tag) && !isSpace(tag[n]) && tag[n] != '/' && tag[n] != '>' {
		n++
	}
	return tag[1:n]
}

// xmlnsAttrs appends a start tag's namespace declarations to out; false
// for a tag it cannot read simply.
func xmlnsAttrs(tag []byte, out []decl) ([]decl, bool) {
	i := 1 + len(rawName(tag))
	for {
		for i < len(tag) && isSpace(tag[i]) {
			i++
		}
		if i >= len(tag) || tag[i] == '/' || tag[i] == '>' {
			return out, true
		}
		start := i
		for i < len(tag) && tag[i] != '=' && !isSpace(tag[i]) && tag[i] != '>' {
			i++
		}
		name := tag[start:i]
		for i < len(tag) && isSpace(tag[i]) {
			i++
		}
		if i >= len(tag) || tag[i] != '=' || len(name) == 0 {
			return nil, false
		}
		i++
		for i < len(tag) && isSpace(tag[i]) {
			i++
		}
		if i >= len(tag) || (tag[i] != '"' && tag[i] != '\'') {
			return nil, false
		}
		q := tag[i]
		i++
		vstart := i
		for i < len(tag) && tag[i] != q {
			i++
		}
		if i >= len(tag) {
			return nil, false
		}
		value := tag[vstart:i]
		i++
		if bytes.IndexByte(value, '&') >= 0 || bytes.IndexByte(value, '<') >= 0 {
			return nil, false
		}
		switch {
		case string(name) == "xmlns":
			out = append(out, decl{nil, value})
		case len(name) > 6 && string(name[:6]) == "xmlns:":
			out = append(out, decl{name[6:], value})
		}
	}
}

// decode resolves nested start tags, outermost first, and returns their
// names with namespaces resolved as they would be in the document: an
// element's namespace depends only on its own declarations and its
// ancestors'.
func decode(tags ...[]byte) ([3]xml.Name, bool) {
	var doc []byte
	for i, t := range tags {
		if i < len(tags)-1 && t[len(t)-2] == '/' {
			return [3]xml.Name{}, false
		}
		doc = append(doc, t...)
	}
	var names [3]xml.Name
	d := xml.NewDecoder(bytes.NewReader(doc))
	for n := 0; n < len(tags); {
		t, err := d.Token()
		if err != nil {
			return names, false
		}
		if se, ok := t.(xml.StartElement); ok {
			names[n] = se.Name
			n++
		}
	}
	return names, true
}

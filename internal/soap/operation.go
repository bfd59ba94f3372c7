package soap

import (
	"bytes"
	"encoding/xml"
)

// Operation returns the name of the first child of the first soap:Body
// in data, for routing a request by operation before it is decoded in
// full: headers are skipped, nothing else is read. ok is false when data
// is not an envelope with an operation; Decode then reports why. It
// applies the depth, count and DTD checks of l first.
func Operation(data []byte, l Limits) (name xml.Name, ok bool) {
	l = l.withDefaults()
	if int64(len(data)) > l.MaxBytes || scanLimits(data, l) != nil {
		return xml.Name{}, false
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	root, err := nextStart(d)
	if err != nil || root.Name.Local != "Envelope" || (root.Name.Space != NS11 && root.Name.Space != NS12) {
		return xml.Name{}, false
	}
	for {
		t, err := d.Token()
		if err != nil {
			return xml.Name{}, false
		}
		switch t := t.(type) {
		case xml.StartElement:
			if t.Name.Space == root.Name.Space && t.Name.Local == "Body" {
				op, err := nextStart(d)
				if err != nil {
					return xml.Name{}, false
				}
				return op.Name, true
			}
			if d.Skip() != nil {
				return xml.Name{}, false
			}
		case xml.EndElement:
			return xml.Name{}, false
		}
	}
}

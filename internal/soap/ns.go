package soap

// Namespaces used across calfed's SOAP surfaces. docs/protocol.md §0.
const (
	NS11         = "http://schemas.xmlsoap.org/soap/envelope/"
	NS12         = "http://www.w3.org/2003/05/soap-envelope"
	NSAddressing = "http://www.w3.org/2005/08/addressing"
	NSSecurity   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	NSUtility    = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	NSXSI        = "http://www.w3.org/2001/XMLSchema-instance"
)

// Version is the SOAP version of an envelope.
type Version int

const (
	V11 Version = iota // SOAP 1.1, text/xml
	V12                // SOAP 1.2, application/soap+xml
)

// Namespace returns the envelope namespace of v.
func (v Version) Namespace() string {
	if v == V12 {
		return NS12
	}
	return NS11
}

// ContentType returns the HTTP content type of a v envelope.
func (v Version) ContentType() string {
	if v == V12 {
		return "application/soap+xml; charset=utf-8"
	}
	return "text/xml; charset=utf-8"
}

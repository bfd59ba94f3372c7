package caldav

import (
	"encoding/xml"
	"net/url"
	"testing"
)

// FuzzMultistatus: whatever a server answers, reading it never panics,
// and an href it names either resolves on the server or is refused.
func FuzzMultistatus(f *testing.F) {
	f.Add([]byte(`<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:href>/a/b.ics</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag><c:calendar-data>BEGIN:VCALENDAR</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response><d:sync-token>t</d:sync-token></d:multistatus>`))
	f.Add([]byte(`<d:multistatus xmlns:d="DAV:"><d:response><d:href>https://evil.example/x</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response></d:multistatus>`))
	f.Add([]byte(`<d:error xmlns:d="DAV:"><d:valid-sync-token/></d:error>`))
	base, _ := url.Parse("https://dav.contoso.example/cal/")
	f.Fuzz(func(t *testing.T, data []byte) {
		precondition(data)
		var ms multistatus
		if xml.Unmarshal(data, &ms) != nil {
			return
		}
		for _, r := range ms.Responses {
			statusCode(r.Status)
			r.ok()
			for _, h := range r.Hrefs {
				if u, err := resolve(base, h); err == nil && (u.Host != base.Host || u.Scheme != base.Scheme) {
					t.Fatalf("resolve(%q) = %s, off the server", h, u)
				}
			}
		}
	})
}

package caldav

import (
	"encoding/xml"
	"strings"
)

// The properties and reports used are in three namespaces: DAV: (RFC
// 4918, 6578), urn:ietf:params:xml:ns:caldav (RFC 4791, 6638) and
// http://calendarserver.org/ns/ (getctag, docs/protocol.md §9.2).

// multistatus is DAV:multistatus, RFC 4918 §14.16, with the sync-token
// RFC 6578 §6.4 adds to a sync-collection answer.
type multistatus struct {
	XMLName   xml.Name   `xml:"DAV: multistatus"`
	Responses []response `xml:"DAV: response"`
	SyncToken string     `xml:"DAV: sync-token"`
}

// response is DAV:response, RFC 4918 §14.24: either propstats, or a
// status for the whole resource (404 for a member removed since a sync
// token, RFC 6578 §3.5; 507 on the collection for a truncated answer,
// §3.6).
type response struct {
	Hrefs     []string   `xml:"DAV: href"`
	Status    string     `xml:"DAV: status"`
	Propstats []propstat `xml:"DAV: propstat"`
}

type propstat struct {
	Prop   prop   `xml:"DAV: prop"`
	Status string `xml:"DAV: status"`
}

type hrefs struct {
	Hrefs []string `xml:"DAV: href"`
}

// prop holds every property calfed asks for; a propstat carries some.
type prop struct {
	ResourceType *struct {
		Calendar *struct{} `xml:"urn:ietf:params:xml:ns:caldav calendar"`
	} `xml:"DAV: resourcetype"`
	DisplayName          string  `xml:"DAV: displayname"`
	CTag                 string  `xml:"http://calendarserver.org/ns/ getctag"`
	SyncToken            string  `xml:"DAV: sync-token"`
	ETag                 string  `xml:"DAV: getetag"`
	CalendarData         *string `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
	CurrentUserPrincipal *hrefs  `xml:"DAV: current-user-principal"`
	CalendarHomeSet      *hrefs  `xml:"urn:ietf:params:xml:ns:caldav calendar-home-set"`
	// RFC 6638 §9.1: opaque (the default) or transparent.
	Transp *struct {
		Transparent *struct{} `xml:"urn:ietf:params:xml:ns:caldav transparent"`
	} `xml:"urn:ietf:params:xml:ns:caldav schedule-calendar-transp"`
	// RFC 4791 §5.2.3; absent means any component.
	Components *struct {
		Comps []struct {
			Name string `xml:"name,attr"`
		} `xml:"urn:ietf:params:xml:ns:caldav comp"`
	} `xml:"urn:ietf:params:xml:ns:caldav supported-calendar-component-set"`
}

// ok is the properties the server returned with 200, merged; properties
// under other statuses (404 for one it does not have) are left out.
func (r *response) ok() prop {
	var p prop
	for _, ps := range r.Propstats {
		if statusCode(ps.Status) != 200 {
			continue
		}
		q := ps.Prop
		if q.ResourceType != nil {
			p.ResourceType = q.ResourceType
		}
		if q.DisplayName != "" {
			p.DisplayName = q.DisplayName
		}
		if q.CTag != "" {
			p.CTag = q.CTag
		}
		if q.SyncToken != "" {
			p.SyncToken = q.SyncToken
		}
		if q.ETag != "" {
			p.ETag = q.ETag
		}
		if q.CalendarData != nil {
			p.CalendarData = q.CalendarData
		}
		if q.CurrentUserPrincipal != nil {
			p.CurrentUserPrincipal = q.CurrentUserPrincipal
		}
		if q.CalendarHomeSet != nil {
			p.CalendarHomeSet = q.CalendarHomeSet
		}
		if q.Transp != nil {
			p.Transp = q.Transp
		}
		if q.Components != nil {
			p.Components = q.Components
		}
	}
	return p
}

// statusCode reads "HTTP/1.1 404 Not Found"; 0 when absent or unreadable.
func statusCode(s string) int {
	f := strings.Fields(s)
	if len(f) < 2 || len(f[1]) != 3 {
		return 0
	}
	n := 0
	for _, c := range f[1] {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// Request bodies. Written out rather than marshalled: they are fixed but
// for hrefs and the token, which are escaped.
const (
	propfindCalendars = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/"><d:prop>` +
		`<d:resourcetype/><d:displayname/><cs:getctag/><d:sync-token/><c:schedule-calendar-transp/><c:supported-calendar-component-set/>` +
		`</d:prop></d:propfind>`
	propfindETags = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getetag/></d:prop></d:propfind>`
	propfindHome = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>` +
		`<d:resourcetype/><c:calendar-home-set/><d:current-user-principal/></d:prop></d:propfind>`
)

// syncCollectionBody is RFC 6578 §6.1 with an empty token for the first
// sync (§3.2), asking for the members' ETags only.
func syncCollectionBody(token string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<d:sync-collection xmlns:d="DAV:"><d:sync-token>`)
	xml.EscapeText(&b, []byte(token))
	b.WriteString(`</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`)
	return b.String()
}

// multigetBody is RFC 4791 §9.10: the ETag and data of each href.
func multigetBody(paths []string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>`)
	for _, p := range paths {
		b.WriteString("<d:href>")
		xml.EscapeText(&b, []byte(p))
		b.WriteString("</d:href>")
	}
	b.WriteString(`</c:calendar-multiget>`)
	return b.String()
}

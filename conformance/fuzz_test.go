package conformance

import (
	"testing"
)

// Answers under test come from any server: comparing them must not
// panic, whatever they hold, and an answer means what it means. (That sets
// are matched consistently with the comparison is fuzzed in
// internal/xmlsem.)
func FuzzCompare(f *testing.F) {
	f.Add([]byte(`<a><b x="1">t</b><CalendarEventArray><CalendarEvent><StartTime>2026-03-23T10:00:00Z</StartTime></CalendarEvent></CalendarEventArray><MergedFreeBusy>0120</MergedFreeBusy></a>`),
		[]byte(`<a xmlns="urn:x"><b>t</b><b/><CalendarEventArray/><MergedFreeBusy>01</MergedFreeBusy></a>`))
	f.Add([]byte(`<UserSettings><UserSetting/><UserSetting/></UserSettings>`), []byte(`<UserSettings><UserSetting><Name/></UserSetting></UserSettings>`))
	f.Fuzz(func(t *testing.T, expected, got []byte) {
		for _, mode := range []Comparison{CompareXML, CompareFreeBusy} {
			diffs, err := CompareXMLBodies(expected, got, mode, []string{"b/@x"})
			if err != nil {
				continue
			}
			back, err := CompareXMLBodies(got, expected, mode, []string{"b/@x"})
			if err != nil {
				continue
			}
			if (len(diffs) == 0) != (len(back) == 0) {
				t.Fatalf("%s: one way %v, the other way %v", mode, diffs, back)
			}
			if self, err := CompareXMLBodies(got, got, mode, nil); err != nil || len(self) != 0 {
				t.Fatalf("%s: an answer differs from itself: %v %v", mode, self, err)
			}
		}
	})
}

// Captures are untrusted input too.
func FuzzImport(f *testing.F) {
	f.Add("x.har", []byte(`{"log":{"entries":[{"request":{"method":"GET","url":"https://h/p"},"response":{"status":200,"content":{"text":"<a/>"}}}]}}`))
	f.Add("x.txt", []byte("GET / HTTP/1.1\r\nHost: h\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n<a/>"))
	f.Add("x.xml", []byte(`<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"/><Autodiscover/>`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		cases, err := Import(name, data, "", &TokenClaims{Requester: "a@b.example", Audience: "x"})
		if err != nil {
			return
		}
		for _, c := range cases {
			if err := CheckSecrets(c); err != nil {
				t.Fatalf("an imported case holds a secret: %v", err)
			}
		}
	})
}

package xmlsem

import "testing"

// Whatever two documents hold, comparing them does not panic, and sets are
// matched consistently with the comparison: two elements have the same key
// exactly when comparing them finds no difference.
func FuzzCompare(f *testing.F) {
	f.Add([]byte(`<a><b x="1">t</b><CalendarEventArray><CalendarEvent><StartTime>2026-03-23T10:00:00Z</StartTime></CalendarEvent></CalendarEventArray><MergedFreeBusy>0120</MergedFreeBusy></a>`),
		[]byte(`<a xmlns="urn:x"><b>t</b><b/><CalendarEventArray/><MergedFreeBusy>01</MergedFreeBusy></a>`))
	f.Add([]byte(`<UserSettings><UserSetting/><UserSetting/></UserSettings>`), []byte(`<UserSettings><UserSetting><Name/></UserSetting></UserSettings>`))
	f.Add([]byte(`<Error Id="1" Time="x"><ID>1</ID></Error>`), []byte(`<Error Id="2"><ID>2</ID></Error>`))
	options := []Options{
		{},
		{Ignore: []string{"b/@x", "MessageID", "Error/@Id", "Error/@Time", "CalendarEventDetails/ID"}, Unordered: []string{"UserSettings", "Domains"}},
		{FreeBusy: true, Ignore: []string{"b/@x", "ID"}, Unordered: []string{"UserSettings"}},
	}
	f.Fuzz(func(t *testing.T, expected, got []byte) {
		for _, o := range options {
			diffs, err := Compare(expected, got, o)
			e, err1 := parseXML(expected)
			g, err2 := parseXML(got)
			if err != nil || err1 != nil || err2 != nil {
				continue
			}
			c := newComparer(o)
			if sameKey := c.key(e) == c.key(g); sameKey != (len(diffs) == 0) {
				t.Fatalf("%+v: keys equal %v, differences %v", o, sameKey, diffs)
			}
		}
	})
}

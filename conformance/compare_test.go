package conformance

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// gua is a recorded GetUserAvailability answer: three mailboxes (the
// second in FreeBusy view with three events).
func gua(t *testing.T) string { return testdata(t, "gua-detailed.xml") }

func testdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// inResponse applies edit to the n-th FreeBusyResponse (1-based) only.
func inResponse(doc string, n int, edit func(string) string) string {
	parts := strings.Split(doc, "<FreeBusyResponse>")
	parts[n] = edit(parts[n])
	return strings.Join(parts, "<FreeBusyResponse>")
}

const fbPath = "Envelope/Body/GetUserAvailabilityResponse/FreeBusyResponseArray/"

func TestDifferencesAreReportedWithTheirPath(t *testing.T) {
	doc := gua(t)
	tests := []struct {
		name string
		mode Comparison
		edit func(string) string
		path string // the one difference expected
		doc  string // default gua-detailed.xml
	}{
		{"changed BusyType", CompareFreeBusy, func(s string) string {
			return inResponse(s, 2, func(r string) string {
				return strings.Replace(r, "<EndTime>2026-03-25T15:00:00</EndTime><BusyType>Busy</BusyType>", "<EndTime>2026-03-25T15:00:00</EndTime><BusyType>Tentative</BusyType>", 1)
			})
		}, fbPath + "FreeBusyResponse[2]/FreeBusyView/CalendarEventArray/CalendarEvent[2]/BusyType", ""},
		{"missing event", CompareFreeBusy, func(s string) string {
			return inResponse(s, 2, func(r string) string {
				return strings.Replace(r, "<CalendarEvent><StartTime>2026-03-27T00:00:00</StartTime><EndTime>2026-03-28T00:00:00</EndTime><BusyType>Busy</BusyType></CalendarEvent>", "", 1)
			})
		}, fbPath + "FreeBusyResponse[2]/FreeBusyView/CalendarEventArray/CalendarEvent[3]", ""},
		{"shifted time zone", CompareFreeBusy, func(s string) string {
			return inResponse(s, 2, func(r string) string {
				return strings.Replace(r, "<StartTime>2026-03-23T10:00:00</StartTime>", "<StartTime>2026-03-23T11:00:00</StartTime>", 1)
			})
		}, fbPath + "FreeBusyResponse[2]/FreeBusyView/CalendarEventArray/CalendarEvent[1]/StartTime", ""},
		{"offset where the capture had none", CompareFreeBusy, func(s string) string {
			return inResponse(s, 2, func(r string) string {
				return strings.Replace(r, "<StartTime>2026-03-23T10:00:00</StartTime>", "<StartTime>2026-03-23T10:00:00Z</StartTime>", 1)
			})
		}, fbPath + "FreeBusyResponse[2]/FreeBusyView/CalendarEventArray/CalendarEvent[1]/StartTime", ""},
		{"extra element", CompareXML, func(s string) string {
			return inResponse(s, 2, func(r string) string {
				return strings.Replace(r, "</FreeBusyView>", `<WorkingHours xmlns="http://schemas.microsoft.com/exchange/services/2006/types"/></FreeBusyView>`, 1)
			})
		}, fbPath + "FreeBusyResponse[2]/FreeBusyView/WorkingHours", ""},
		{"merged digit", CompareFreeBusy, func(s string) string {
			return inResponse(s, 1, func(r string) string {
				i := strings.Index(r, "<MergedFreeBusy")
				j := i + strings.Index(r[i:], ">") + 1
				return r[:j+3] + string("0123456"[(int(r[j+3]-'0')+1)%5]) + r[j+4:]
			})
		}, fbPath + "FreeBusyResponse[1]/FreeBusyView/MergedFreeBusy[digit 3]", "gua-merged.xml"},
		{"event order, where order counts", CompareXML, func(s string) string {
			return inResponse(s, 2, swapFirstEvents)
		}, fbPath + "FreeBusyResponse[2]/FreeBusyView/CalendarEventArray/CalendarEvent[1]/StartTime", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := doc
			if tt.doc != "" {
				doc = testdata(t, tt.doc)
			}
			got := tt.edit(doc)
			if got == doc {
				t.Fatal("the edit changed nothing")
			}
			diffs, err := CompareXMLBodies([]byte(doc), []byte(got), tt.mode, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(diffs) == 0 || diffs[0].Path != tt.path {
				t.Errorf("CompareXMLBodies = %v, want a difference at %s", diffs, tt.path)
			}
		})
	}
}

func swapFirstEvents(r string) string {
	a := strings.Index(r, "<CalendarEvent>")
	b := strings.Index(r[a+1:], "<CalendarEvent>") + a + 1
	c := strings.Index(r[b:], "</CalendarEvent>") + b + len("</CalendarEvent>")
	return r[:a] + r[b:c] + r[a:b] + r[c:]
}

func TestEqualInMeaning(t *testing.T) {
	doc := gua(t)
	tests := []struct {
		name string
		mode Comparison
		edit func(string) string
		doc  string // default gua-detailed.xml
	}{
		{"indented", CompareXML, func(s string) string {
			d := etree.NewDocument()
			d.ReadFromString(s)
			d.Indent(2)
			out, _ := d.WriteToString()
			return out
		}, ""},
		{"other prefixes", CompareXML, func(s string) string {
			s = strings.ReplaceAll(s, "<s:", "<soap:")
			s = strings.ReplaceAll(s, "</s:", "</soap:")
			return strings.Replace(s, `xmlns:s="`, `xmlns:soap="`, 1)
		}, ""},
		{"attributes reordered", CompareXML, func(s string) string {
			return strings.Replace(s, `MajorVersion="15" MinorVersion="1"`, `MinorVersion="1" MajorVersion="15"`, 1)
		}, ""},
		{"volatile ServerVersionInfo", CompareXML, func(s string) string {
			return strings.Replace(s, `MajorBuildNumber="2507"`, `MajorBuildNumber="1748"`, 1)
		}, ""},
		{"another server's item ids", CompareFreeBusy, func(s string) string {
			return strings.Replace(s, "<ID>", "<ID>X", 1)
		}, "gua-merged.xml"},
		{"event order in a free/busy comparison", CompareFreeBusy, func(s string) string {
			return inResponse(s, 2, swapFirstEvents)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := doc
			if tt.doc != "" {
				doc = testdata(t, tt.doc)
			}
			got := tt.edit(doc)
			if got == doc {
				t.Fatal("the edit changed nothing")
			}
			diffs, err := CompareXMLBodies([]byte(doc), []byte(got), tt.mode, nil)
			if err != nil || len(diffs) != 0 {
				t.Errorf("CompareXMLBodies = %v, %v; want equal", diffs, err)
			}
		})
	}
}

func TestCompareRefusesHostileXML(t *testing.T) {
	bomb := `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]><a>&y;</a>`
	if _, err := CompareXMLBodies([]byte(bomb), []byte("<a/>"), CompareXML, nil); err == nil {
		t.Error("an expected body with a DTD was accepted")
	}
	diffs, err := CompareXMLBodies([]byte("<a/>"), []byte(bomb), CompareXML, nil)
	if err != nil || len(diffs) != 1 || diffs[0].Path != "/" {
		t.Errorf("an answer with a DTD: %v %v", diffs, err)
	}
	deep := strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000)
	if _, err := CompareXMLBodies([]byte(deep), []byte(deep), CompareXML, nil); err == nil {
		t.Error("a document nested 100,000 deep was accepted")
	}
}

// A free/busy answer of thousands of events, in another order.
func BenchmarkFreeBusySet(b *testing.B) {
	var e, g strings.Builder
	const n = 5000
	for i := 0; i < n; i++ {
		ev := func(j int) string {
			return fmt.Sprintf("<CalendarEvent><StartTime>2026-03-%02dT%02d:%02d:00</StartTime><EndTime>2026-03-%02dT%02d:%02d:00</EndTime><BusyType>Busy</BusyType></CalendarEvent>", j%28+1, j%24, j%60, j%28+1, j%24, j%60)
		}
		e.WriteString(ev(i))
		g.WriteString(ev(n - 1 - i))
	}
	exp := []byte("<FreeBusyView><CalendarEventArray>" + e.String() + "</CalendarEventArray></FreeBusyView>")
	got := []byte("<FreeBusyView><CalendarEventArray>" + g.String() + "</CalendarEventArray></FreeBusyView>")
	for b.Loop() {
		if diffs, err := CompareXMLBodies(exp, got, CompareFreeBusy, nil); err != nil || len(diffs) != 0 {
			b.Fatal(diffs, err)
		}
	}
}

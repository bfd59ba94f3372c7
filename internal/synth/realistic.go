package synth

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Realistic returns one mailbox's calendar as Outlook and Google export
// a working person's: about 450 VEVENTs over the two years before now
// and the three months after. A dozen series, some begun years ago and
// some ended (UNTIL or COUNT): stand-ups, one-to-ones, fortnightly and
// monthly meetings, each with excluded occurrences and about half a
// dozen moved or changed ones (overrides, some cancelled); the rest
// one-off meetings and appointments, all-day absences, private,
// tentative and free items, with attendees, descriptions and alarms. Its
// VTIMEZONE is Outlook's for London. seed makes it reproducible.
func Realistic(seed uint64, now time.Time) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	var b bytes.Buffer // handed out without a copy
	b.Grow(384 << 10)
	b.WriteString("BEGIN:VCALENDAR\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\n")
	b.WriteString("BEGIN:VTIMEZONE\r\nTZID:GMT Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16011028T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:-0000\r\nEND:STANDARD\r\n")
	b.WriteString("BEGIN:DAYLIGHT\r\nDTSTART:16010325T010000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nTZOFFSETFROM:-0000\r\nTZOFFSETTO:+0100\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n")
	const tz = "GMT Standard Time"
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	local := func(t time.Time) string { return t.Format("20060102T150405") }
	uid := func() string {
		if r.IntN(3) == 0 {
			return hex16(r.Uint64()) + hex16(r.Uint64()) + "@google.com"
		}
		return "040000008200E00074C5B7101A82E00800000000" + strings.ToUpper(hex16(r.Uint64())+hex16(r.Uint64()))
	}
	person := func() string {
		return firstNames[r.IntN(len(firstNames))] + "." + lastNames[r.IntN(len(lastNames))] + "@" + domains[r.IntN(len(domains))]
	}
	meeting := func(lines []string) []string {
		lines = append(lines, "ORGANIZER;CN=Organiser:mailto:"+person())
		for range 1 + r.IntN(6) {
			lines = append(lines, "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:"+person())
		}
		return lines
	}
	event := func(u string, lines ...string) {
		b.WriteString("BEGIN:VEVENT\r\nUID:" + u + "\r\n")
		created := today.AddDate(0, 0, -r.IntN(900)).Add(time.Duration(r.IntN(86400)) * time.Second)
		b.WriteString("DTSTAMP:" + created.Format("20060102T150405Z") + "\r\nCREATED:" + created.Format("20060102T150405Z") + "\r\n")
		for _, l := range lines {
			b.WriteString(l)
			b.WriteString("\r\n")
		}
		b.WriteString("END:VEVENT\r\n")
	}
	description := func() string {
		if r.IntN(3) != 0 {
			return ""
		}
		return "DESCRIPTION:" + descriptions[r.IntN(len(descriptions))]
	}
	alarm := []string{"BEGIN:VALARM", "TRIGGER:-PT15M", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "END:VALARM"}

	// The series: what rule, how long ago it began, and whether it ended.
	type seriesShape struct {
		rule  string
		step  int // days between occurrences, roughly, to place overrides
		dur   int // minutes
		title string
	}
	shapes := []seriesShape{
		{"FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", 1, 15, "Team stand-up"},
		{"FREQ=WEEKLY;BYDAY=MO", 7, 30, "1:1"},
		{"FREQ=WEEKLY;BYDAY=TH", 7, 60, "Team meeting"},
		{"FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", 14, 60, "Fortnightly review"},
		{"FREQ=MONTHLY;BYDAY=1TU", 30, 90, "Monthly governance board"},
		{"FREQ=MONTHLY;BYMONTHDAY=15", 30, 60, "Budget check-in"},
		{"FREQ=WEEKLY;BYDAY=TU,TH", 3, 30, "Clinic handover"},
		{"FREQ=YEARLY", 365, 60, "Annual appraisal"},
		{"FREQ=WEEKLY;BYDAY=FR;COUNT=40", 7, 45, "Project Phoenix steering"},
		{"FREQ=WEEKLY;INTERVAL=3;BYDAY=WE", 21, 30, "Lunch and learn"},
		{"FREQ=WEEKLY;BYDAY=MO,WE,FR", 2, 15, "Bed meeting"},
		{"FREQ=MONTHLY;BYDAY=-1FR", 30, 120, "Quarterly planning"},
	}
	vevents := 0
	for i, sh := range shapes {
		u := uid()
		// Begun between three months and eight years ago, at a half hour
		// between 08:00 and 16:00.
		began := today.AddDate(0, 0, -90-r.IntN(8*365))
		start := began.Add(time.Duration(8*60+30*r.IntN(16)) * time.Minute)
		lines := []string{"SUMMARY:" + sh.title, "DTSTART;TZID=" + tz + ":" + local(start),
			"DTEND;TZID=" + tz + ":" + local(start.Add(time.Duration(sh.dur)*time.Minute))}
		rule := sh.rule
		if i%5 == 4 && !strings.Contains(rule, "COUNT") {
			rule += ";UNTIL=" + today.AddDate(0, 0, -r.IntN(200)).Format("20060102T000000Z") // ended
		}
		lines = append(lines, "RRULE:"+rule, "LOCATION:"+locations[r.IntN(len(locations))])
		for range 2 + r.IntN(4) {
			lines = append(lines, "EXDATE;TZID="+tz+":"+local(start.AddDate(0, 0, sh.step*(1+r.IntN(60)))))
		}
		lines = append(meeting(lines), alarm...)
		if d := description(); d != "" {
			lines = append(lines, d)
		}
		event(u, lines...)
		vevents++
		// Moved, restyled or cancelled occurrences, named by the
		// original's start; most in the last year and the next months.
		moved := map[int]bool{}
		for range 3 + r.IntN(7) {
			n := r.IntN(400)
			orig := start.AddDate(0, 0, sh.step*n)
			if orig.After(today.AddDate(0, 3, 0)) || moved[n] {
				continue
			}
			moved[n] = true
			to := orig.Add(time.Duration(30*(r.IntN(9)-4)) * time.Minute)
			ov := []string{"RECURRENCE-ID;TZID=" + tz + ":" + local(orig), "SEQUENCE:" + strconv.Itoa(1+r.IntN(3))}
			switch r.IntN(6) {
			case 0:
				ov = append(ov, "STATUS:CANCELLED", "SUMMARY:Cancelled: "+sh.title, "DTSTART;TZID="+tz+":"+local(orig), "DURATION:PT30M")
			case 1:
				ov = append(ov, "SUMMARY:"+sh.title+" (moved)", "DTSTART;TZID="+tz+":"+local(to), "DURATION:PT1H", "LOCATION:"+locations[r.IntN(len(locations))])
			default:
				ov = append(ov, "SUMMARY:"+sh.title, "DTSTART;TZID="+tz+":"+local(to), "DURATION:PT"+strconv.Itoa(sh.dur)+"M")
			}
			event(u, meeting(ov)...)
			vevents++
		}
	}
	// One-off items up to about 450 VEVENTs in all, more of them recent.
	for vevents < 440+r.IntN(20) {
		day := 90 - int(float64(820)*r.Float64()*r.Float64())
		at := today.AddDate(0, 0, day)
		if wd := at.Weekday(); wd == time.Saturday || wd == time.Sunday {
			if r.IntN(8) != 0 {
				continue
			}
		}
		lines := []string{}
		switch k := r.IntN(20); {
		case k == 0: // leave
			lines = append(lines, "SUMMARY:"+absences[r.IntN(len(absences))], "DTSTART;VALUE=DATE:"+at.Format("20060102"),
				"DTEND;VALUE=DATE:"+at.AddDate(0, 0, 1+r.IntN(10)).Format("20060102"), "X-MICROSOFT-CDO-BUSYSTATUS:OOF", "TRANSP:TRANSPARENT")
		case k == 1:
			lines = append(lines, "SUMMARY:Dentist", "CLASS:PRIVATE", "DTSTART;TZID="+tz+":"+local(at.Add(time.Duration(7*60+30*r.IntN(20))*time.Minute)), "DURATION:PT1H")
		case k == 2:
			lines = append(lines, "SUMMARY:Focus time", "TRANSP:TRANSPARENT", "X-MICROSOFT-CDO-BUSYSTATUS:FREE",
				"DTSTART;TZID="+tz+":"+local(at.Add(14*time.Hour)), "DURATION:PT2H")
		case k == 3:
			lines = meeting(append(lines, "SUMMARY:"+subjects[r.IntN(len(subjects))], "STATUS:TENTATIVE", "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE",
				"DTSTART;TZID="+tz+":"+local(at.Add(time.Duration(8*60+30*r.IntN(18))*time.Minute)), "DURATION:PT30M"))
		case k < 7:
			lines = append(lines, "SUMMARY:"+subjects[r.IntN(len(subjects))]+" "+strconv.Itoa(r.IntN(1000)),
				"DTSTART:"+at.Add(time.Duration(8*60+30*r.IntN(18))*time.Minute).Format("20060102T150405Z"), "DURATION:PT45M")
		default:
			start := at.Add(time.Duration(8*60+30*r.IntN(18)) * time.Minute)
			lines = meeting(append(lines, "SUMMARY:"+subjects[r.IntN(len(subjects))], "LOCATION:"+locations[r.IntN(len(locations))],
				"DTSTART;TZID="+tz+":"+local(start), "DTEND;TZID="+tz+":"+local(start.Add(time.Duration(30*(1+r.IntN(4)))*time.Minute))))
		}
		if r.IntN(2) == 0 {
			lines = append(lines, alarm...)
		}
		if d := description(); d != "" {
			lines = append(lines, d)
		}
		event(uid(), lines...)
		vevents++
	}
	b.WriteString("END:VCALENDAR\r\n")
	return b.Bytes()
}

// hex16 writes x in 16 lower-case hex digits.
func hex16(x uint64) string {
	const digits = "0123456789abcdef"
	var h [16]byte
	for i := 15; i >= 0; i-- {
		h[i] = digits[x&0xF]
		x >>= 4
	}
	return string(h[:])
}

var (
	firstNames = []string{"alice", "bob", "carol", "dev", "erin", "farah", "george", "hana", "ian", "jo", "kofi", "lena", "mo", "niamh", "owen", "priya"}
	lastNames  = []string{"smith", "jones", "patel", "williams", "brown", "khan", "taylor", "davies", "evans", "wilson", "okafor", "murphy"}
	domains    = []string{"nhs.net", "example.nhs.uk", "partner.example", "trust.example"}
	locations  = []string{"Room 1.02", "Room 2.14", "Boardroom", "Microsoft Teams Meeting", "Seminar room B", "Ward 7 office", "Zoom", "Cafe", "Main hall"}
	subjects   = []string{"Catch-up", "Interview panel", "Audit meeting", "Discharge planning", "Training: information governance", "Supplier call",
		"Design review", "Coffee", "Recruitment", "Incident review", "Estates walk-round", "Vendor demo", "Budget", "Rota planning", "Research meeting"}
	absences     = []string{"Annual leave", "Study leave", "Conference", "Working from home", "Out of office"}
	descriptions = []string{
		"Agenda:\\n1. Actions from last time\\n2. Updates\\n3. AOB",
		"Join Microsoft Teams Meeting\\nhttps://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%22Tid%22%3a%22x%22%7d\\nLearn more about Teams | Meeting options",
		"Please bring the latest figures.",
		"Notes in the shared folder.",
	}
)

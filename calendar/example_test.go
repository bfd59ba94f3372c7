package calendar_test

import (
	"fmt"
	"time"

	"github.com/calfed/calfed/calendar"
)

func ExampleParse() {
	data := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:standup\r\nSUMMARY:Stand-up\r\n" +
		"DTSTART;TZID=W. Europe Standard Time:20260323T093000\r\nDURATION:PT15M\r\n" +
		"RRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	cal, err := calendar.Parse([]calendar.File{{Name: "alice.ics", Data: []byte(data)}}, calendar.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	from := time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC)
	events, _ := cal.Events(from, from.AddDate(0, 0, 7))
	for _, e := range events {
		fmt.Println(e.Start.Format(time.RFC3339), e.Item.Busy, e.Item.Subject())
	}
	// Output:
	// 2026-03-23T08:30:00Z Busy Stand-up
	// 2026-03-24T08:30:00Z Busy Stand-up
	// 2026-03-25T08:30:00Z Busy Stand-up
}

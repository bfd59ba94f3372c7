package userfb_test

import (
	"fmt"
	"time"

	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/userfb"
)

func ExampleVFreeBusy() {
	start := time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC)
	busy := freebusy.RemoteEvent(start.Add(10*time.Hour), start.Add(11*time.Hour), freebusy.Busy, false, false, "", "")
	ics := userfb.VFreeBusy("-//example//EN", "bob@b.example", start, start.Add(24*time.Hour), start, []freebusy.Event{busy})
	fmt.Println(len(ics) > 0)
	// Output: true
}

package calendar

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// gated is a calendar whose read waits until its gate opens.
type gated struct {
	StaticSource
	gate chan struct{}
}

func (g gated) Read(ctx context.Context) ([]File, error) {
	<-g.gate
	return g.StaticSource.Read(ctx)
}

// counted is a calendar that counts its reads.
type counted struct {
	StaticSource
	reads *atomic.Int32
}

func (c counted) Read(ctx context.Context) ([]File, error) {
	c.reads.Add(1)
	return c.StaticSource.Read(ctx)
}

// A Background directory returns before its calendars are read; a query
// for a mailbox the loaders have not reached loads it there and then,
// and Progress and Loaded follow the loading to its end.
func TestBackgroundDirectoryLoadsOnDemand(t *testing.T) {
	gate := make(chan struct{})
	data := ics(ev("UID:1", "DTSTART:20260401T090000Z", "DTEND:20260401T100000Z"))
	var entries []Entry
	workers := runtime.GOMAXPROCS(0)
	// The loaders take the mailboxes in order: the first ones hold every
	// loader at their gate, the last one is free to read.
	for i := range workers {
		entries = append(entries, Entry{Mailbox: Mailbox{Address: fmt.Sprintf("held%d@example.org", i)},
			Source: gated{StaticSource{Name: "held.ics", Data: data}, gate}})
	}
	var freeReads atomic.Int32
	entries = append(entries, Entry{Mailbox: Mailbox{Address: "free@example.org"}, Source: counted{StaticSource{Name: "free.ics", Data: data}, &freeReads}})
	d, err := NewDirectory(t.Context(), entries, DirectoryOptions{Background: true})
	if err != nil {
		t.Fatal(err)
	}
	if n, total := d.Progress(); n != 0 || total != len(entries) {
		t.Errorf("Progress() = %d, %d before any read; want 0, %d", n, total, len(entries))
	}
	from := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	if evs, err := d.Events(t.Context(), "free@example.org", from, from.AddDate(0, 0, 1)); err != nil || len(evs) != 1 {
		t.Fatalf("a mailbox the loaders have not reached: %v, %v", evs, err)
	}
	if n, _ := d.Progress(); n != 1 {
		t.Errorf("Progress() = %d loaded after one on-demand load, want 1", n)
	}
	// A caller that gives up while its mailbox loads gets an error; the
	// calendar does not fail for the next caller.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := d.Events(ctx, "held0@example.org", from, from.AddDate(0, 0, 1)); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled query of a loading mailbox: err = %v, want ErrUnavailable and context.Canceled", err)
	}
	select {
	case <-d.Loaded():
		t.Fatal("Loaded() is closed while calendars are still being read")
	default:
	}
	close(gate)
	select {
	case <-d.Loaded():
	case <-time.After(time.Minute):
		t.Fatal("Loaded() not closed after every read could end")
	}
	if n, total := d.Progress(); n != total {
		t.Errorf("Progress() = %d of %d once loaded", n, total)
	}
	// The loaders, reaching the mailbox loaded on demand, leave it be:
	// ten thousand calendars are not read twice.
	if n := freeReads.Load(); n != 1 {
		t.Errorf("the mailbox loaded on demand was read %d times by the time all were loaded, want 1", n)
	}
	if evs, err := d.Events(t.Context(), "held0@example.org", from, from.AddDate(0, 0, 1)); err != nil || len(evs) != 1 {
		t.Errorf("held0 once loaded: %v, %v", evs, err)
	}
	if mailboxes, instances, failed := d.Stats(); mailboxes != len(entries) || instances != len(entries) || failed != 0 {
		t.Errorf("Stats() = %d, %d, %d", mailboxes, instances, failed)
	}
}

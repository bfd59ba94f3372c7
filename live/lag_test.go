package live

import (
	"testing"
	"time"
)

// Applied is told of each change put in force after the first load,
// with the time from the change being made to now; the first load and a
// reload at the same change are not changes applied.
func TestAppliedReportsTheLag(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	first := snapshot(1, true)
	first.ChangedAt = now.Add(-time.Hour)
	st := &fakeStore{snap: first}
	type applied struct {
		change int64
		lag    time.Duration
	}
	var got []applied
	p, err := New(t.Context(), Options{Store: st, Validation: noValidation{}, Now: func() time.Time { return now },
		Applied: func(c int64, lag time.Duration) { got = append(got, applied{c, lag}) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Load(t.Context()); err != nil { // the same change again
		t.Fatal(err)
	}
	next := snapshot(2, false)
	next.ChangedAt = now.Add(-1500 * time.Millisecond)
	st.set(next, nil)
	if err := p.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (applied{2, 1500 * time.Millisecond}) {
		t.Errorf("Applied calls = %+v, want change 2 after 1.5s", got)
	}
}

package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/calfed/calfed/orgrel"
)

// ErrNotApplied is returned, wrapped around an Applied's account, when a
// change is saved but some running server has not put it in force
// within the wait.
var ErrNotApplied = errors.New("the change is saved but not yet in force on every server")

// MaxWait bounds how long WaitApplied waits.
const MaxWait = 5 * time.Minute

// waitPoll is how often WaitApplied reads the servers' reports.
const waitPoll = 20 * time.Millisecond

// Applied is how far a change has reached the running servers: those
// whose reports in the store have not expired.
type Applied struct {
	Change  int64           `json:"change"`     // the change waited for
	Servers []orgrel.Server `json:"servers"`    // every running server, as it last reported
	Elapsed time.Duration   `json:"elapsed_ns"` // how long the wait took
	Wait    time.Duration   `json:"wait_ns"`    // how long it could take
}

// Pending lists the servers that have not applied the change.
func (a Applied) Pending() []orgrel.Server {
	var out []orgrel.Server
	for _, s := range a.Servers {
		if s.Applied < a.Change {
			out = append(out, s)
		}
	}
	return out
}

// Done reports whether every running server has applied the change.
func (a Applied) Done() bool { return len(a.Pending()) == 0 }

// String says it for people: "applied by 2 of 2 servers in 140 ms", or
// which servers have not, how far they are and why.
func (a Applied) String() string {
	if len(a.Servers) == 0 {
		return "no server is running on this store"
	}
	pending := a.Pending()
	done := len(a.Servers) - len(pending)
	if len(pending) == 0 {
		return fmt.Sprintf("applied by %d of %d servers in %s", done, len(a.Servers), millis(a.Elapsed))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "applied by %d of %d servers within %s; not by", done, len(a.Servers), a.Wait)
	for i, s := range pending {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s (at change %d of %d", s.ID, s.Applied, a.Change)
		switch {
		case s.Error != "" && s.FailingSince != nil:
			fmt.Fprintf(&b, "; reloads failing since %s: %s)", s.FailingSince.UTC().Format(time.RFC3339), s.Error)
		case s.Error != "":
			fmt.Fprintf(&b, "; last reload failed: %s)", s.Error)
		default:
			fmt.Fprintf(&b, "; last report %s)", s.Heartbeat.UTC().Format(time.RFC3339))
		}
	}
	return b.String()
}

func millis(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return d.Round(100 * time.Millisecond).String()
}

// WaitApplied waits up to wait until every running server has applied
// change (0: the store's current change, which includes every change
// committed before the call), and returns how far it got. Not getting
// there is no error: see Applied.Done.
func (s *Service) WaitApplied(ctx context.Context, change int64, wait time.Duration) (Applied, error) {
	start := time.Now()
	if wait < 0 || wait > MaxWait {
		return Applied{}, fmt.Errorf("%w: wait: %v is not between 0 and %v", errBadRequest, wait, MaxWait)
	}
	if change <= 0 {
		var err error
		if change, err = s.db.Counter(ctx); err != nil {
			return Applied{}, err
		}
	}
	t := time.NewTicker(waitPoll)
	defer t.Stop()
	for {
		servers, err := s.db.Servers(ctx)
		if err != nil {
			return Applied{}, err
		}
		a := Applied{Change: change, Servers: servers, Elapsed: time.Since(start), Wait: wait}
		if a.Done() || a.Elapsed >= wait {
			return a, nil
		}
		select {
		case <-ctx.Done():
			return a, ctx.Err()
		case <-t.C:
		}
	}
}

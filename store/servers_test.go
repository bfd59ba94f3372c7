package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/calfed/calfed/orgrel"
)

// Servers report what they applied; a report replaces the previous one,
// expired reports are ignored, and those gone for longer than
// ServerRetention are deleted. Reports are no change: the counter stays.
func TestServerReports(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Date(2026, 3, 24, 10, 0, 0, 0, time.UTC)
		b.cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		setNow := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
		d := open(t, b)
		start := now
		before, _ := d.Counter(ctx)

		failing := start.Add(3 * time.Second)
		a := orgrel.Server{ID: "host-a/101/aa", Started: start, Applied: 1, AppliedAt: start, Heartbeat: start, Expires: start.Add(20 * time.Second)}
		z := orgrel.Server{ID: "host-b/202/bb", Started: start, Applied: 1, AppliedAt: start, Heartbeat: start, Expires: start.Add(20 * time.Second),
			Error: "permission denied for table service_accounts", FailingSince: &failing}
		for _, s := range []orgrel.Server{z, a} {
			if err := d.ReportServer(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		a.Applied, a.AppliedAt, a.Heartbeat = 2, start.Add(time.Second), start.Add(5*time.Second)
		if err := d.ReportServer(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err := d.Servers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != a.ID || got[0].Applied != 2 || !got[0].Heartbeat.Equal(a.Heartbeat) || got[0].Error != "" || got[0].FailingSince != nil ||
			got[1].ID != z.ID || got[1].Error != z.Error || got[1].FailingSince == nil || !got[1].FailingSince.Equal(failing) || !got[1].Started.Equal(start) {
			t.Fatalf("Servers = %+v", got)
		}
		if after, _ := d.Counter(ctx); after != before {
			t.Errorf("reports moved the change counter from %d to %d", before, after)
		}

		// Past z's expiry only a's fresh report counts.
		setNow(start.Add(21 * time.Second))
		a.Heartbeat, a.Expires = now, now.Add(20*time.Second)
		if err := d.ReportServer(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.Servers(ctx); len(got) != 1 || got[0].ID != a.ID {
			t.Errorf("after z expired: Servers = %+v", got)
		}
		var rows int
		d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM live_servers`).Scan(&rows)
		if rows != 2 {
			t.Errorf("%d rows, want z's kept until ServerRetention", rows)
		}
		// Beyond the retention, the next report deletes z's record.
		setNow(start.Add(20*time.Second + ServerRetention + time.Second))
		a.Heartbeat, a.Expires = now, now.Add(20*time.Second)
		if err := d.ReportServer(ctx, a); err != nil {
			t.Fatal(err)
		}
		d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM live_servers`).Scan(&rows)
		if rows != 1 {
			t.Errorf("%d rows, want z's deleted", rows)
		}

		if err := d.RemoveServer(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.Servers(ctx); len(got) != 0 {
			t.Errorf("after RemoveServer: %+v", got)
		}
		if err := d.ReportServer(ctx, orgrel.Server{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("a report without an id: %v", err)
		}
	})
}

package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/calfed/calfed/orgrel"
)

// The access log keeps each partner request as written, answers by
// partner (relationship, domain, account or user), mailbox and time,
// sums up each partner's activity, and prunes by age without touching
// the change counter.
func TestAccessLog(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		before, _ := d.Counter(ctx)
		entries := []orgrel.AccessEntry{
			{At: t0, Server: "s1", Relationship: "Northshire NHS Trust", Domain: "northshire.example", Account: "svc-north",
				Operation: "GetUserAvailability", Remote: "192.0.2.1:1234", Outcome: orgrel.AccessOK, Status: 200, Duration: 3 * time.Millisecond,
				Mailbox: []orgrel.MailboxAccess{{Address: "alice@contoso.example", View: "DetailedMerged", Outcome: "OK"},
					{Address: "room1@contoso.example", View: "None", Outcome: "NoAccess"}}},
			{At: t0.Add(time.Minute), Relationship: "Northshire NHS Trust", Domain: "northshire.example", User: "bob@northshire.example",
				Operation: "GetUserAvailability", Outcome: orgrel.AccessUnavailable, Status: 503, Reason: "access policy too old",
				Mailbox: []orgrel.MailboxAccess{{Address: "alice@contoso.example", View: "None"}}},
			{At: t0.Add(2 * time.Minute), Domain: "stranger.example", User: "eve@stranger.example", Operation: "GetUserAvailability",
				Outcome: orgrel.AccessDenied, Status: 200, Mailbox: []orgrel.MailboxAccess{{Address: "bob@contoso.example", View: "None", Outcome: "NoAccess"}}},
		}
		if err := d.RecordAccess(ctx, entries); err != nil {
			t.Fatalf("RecordAccess: %v", err)
		}
		if entries[0].ID == 0 || entries[1].ID <= entries[0].ID {
			t.Errorf("ids = %d, %d, want increasing", entries[0].ID, entries[1].ID)
		}
		all, err := d.AccessLog(ctx, orgrel.AccessQuery{})
		if err != nil || len(all) != 3 {
			t.Fatalf("AccessLog() = %d entries, %v, want 3", len(all), err)
		}
		if !reflect.DeepEqual(all[0], entries[0]) {
			t.Errorf("AccessLog()[0] = %+v, want %+v", all[0], entries[0])
		}
		for _, c := range []struct {
			name string
			q    orgrel.AccessQuery
			want []int64
		}{
			{"relationship", orgrel.AccessQuery{Partner: "northshire nhs trust"}, []int64{entries[0].ID, entries[1].ID}},
			{"account", orgrel.AccessQuery{Partner: "SVC-NORTH"}, []int64{entries[0].ID}},
			{"domain of a stranger", orgrel.AccessQuery{Partner: "stranger.example"}, []int64{entries[2].ID}},
			{"mailbox", orgrel.AccessQuery{Mailbox: "Alice@contoso.example"}, []int64{entries[0].ID, entries[1].ID}},
			{"mailbox refused", orgrel.AccessQuery{Mailbox: "room1@contoso.example"}, []int64{entries[0].ID}},
			{"since", orgrel.AccessQuery{Since: t0.Add(time.Minute)}, []int64{entries[1].ID, entries[2].ID}},
			{"until", orgrel.AccessQuery{Until: t0.Add(time.Minute)}, []int64{entries[0].ID}},
			{"newest", orgrel.AccessQuery{Limit: 2}, []int64{entries[1].ID, entries[2].ID}},
			{"nobody", orgrel.AccessQuery{Partner: "nobody"}, nil},
		} {
			got, err := d.AccessLog(ctx, c.q)
			if err != nil {
				t.Fatalf("%s: AccessLog: %v", c.name, err)
			}
			var ids []int64
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if !reflect.DeepEqual(ids, c.want) {
				t.Errorf("%s: AccessLog(%+v) = %v, want %v", c.name, c.q, ids, c.want)
			}
		}

		act, err := d.PartnerActivity(ctx, t0.Add(30*time.Second))
		if err != nil || len(act) != 2 {
			t.Fatalf("PartnerActivity = %+v, %v, want two partners", act, err)
		}
		n := act[0]
		if n.Partner != "Northshire NHS Trust" || n.LastSuccess == nil || !n.LastSuccess.Equal(t0) ||
			n.LastFailure == nil || !n.LastFailure.Equal(t0.Add(time.Minute)) || n.FailureWhy != "unavailable: access policy too old" ||
			n.Requests != 1 || n.ByOutcome[orgrel.AccessUnavailable] != 1 {
			t.Errorf("PartnerActivity[0] = %+v", n)
		}
		if s := act[1]; s.Partner != "stranger.example" || s.LastSuccess != nil || s.FailureWhy != "denied" || s.Requests != 1 {
			t.Errorf("PartnerActivity[1] = %+v", s)
		}

		if n, err := d.PruneAccessLog(ctx, t0.Add(90*time.Second), 1); err != nil || n != 1 {
			t.Fatalf("PruneAccessLog(limit 1) = %d, %v, want 1", n, err)
		}
		if n, err := d.PruneAccessLog(ctx, t0.Add(90*time.Second), 10); err != nil || n != 1 {
			t.Fatalf("PruneAccessLog = %d, %v, want the 1 left", n, err)
		}
		if got, _ := d.AccessLog(ctx, orgrel.AccessQuery{Mailbox: "alice@contoso.example"}); len(got) != 0 {
			t.Errorf("after pruning, alice's entries = %+v, want none", got)
		}
		if got, _ := d.AccessLog(ctx, orgrel.AccessQuery{}); len(got) != 1 || got[0].ID != entries[2].ID {
			t.Errorf("after pruning = %+v, want the newest only", got)
		}
		if _, err := d.PruneAccessLog(ctx, t0, 0); err == nil {
			t.Error("PruneAccessLog(limit 0) succeeded")
		}
		if err := d.RecordAccess(ctx, []orgrel.AccessEntry{{At: t0}}); err == nil {
			t.Error("RecordAccess of an entry without operation or outcome succeeded")
		}
		if after, _ := d.Counter(ctx); after != before {
			t.Errorf("the change counter moved from %d to %d: logging access would reload every server", before, after)
		}
	})
}

// Batches larger than one statement holds are written whole, with
// increasing ids, each mailbox indexed once however its address is
// spelt; ids are never given again, not even after the newest rows are
// pruned.
func TestAccessLogLargeBatches(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		batch := func(n int, at time.Time) []orgrel.AccessEntry {
			entries := make([]orgrel.AccessEntry, n)
			for i := range entries {
				entries[i] = orgrel.AccessEntry{At: at, Domain: "partner.example", Operation: "GetUserAvailability", Outcome: orgrel.AccessOK,
					Status: 200, Remote: fmt.Sprintf("192.0.2.1:%d", i),
					Mailbox: []orgrel.MailboxAccess{{Address: "alice@contoso.example", View: "FreeBusy", Outcome: "OK"},
						{Address: "Alice@Contoso.example", View: "FreeBusy", Outcome: "OK"},
						{Address: fmt.Sprintf("room%d@contoso.example", i), View: "None", Outcome: "NoAccess"}}}
			}
			return entries
		}
		first := batch(1201, t0)
		if err := d.RecordAccess(ctx, first); err != nil {
			t.Fatalf("RecordAccess(1201 entries): %v", err)
		}
		for i := 1; i < len(first); i++ {
			if first[i].ID <= first[i-1].ID {
				t.Fatalf("ids[%d..%d] = %d, %d, want increasing", i-1, i, first[i-1].ID, first[i].ID)
			}
		}
		all, err := d.AccessLog(ctx, orgrel.AccessQuery{})
		if err != nil || len(all) != len(first) {
			t.Fatalf("AccessLog() = %d entries, %v, want %d", len(all), err, len(first))
		}
		for i := range all {
			if !reflect.DeepEqual(all[i], first[i]) {
				t.Fatalf("AccessLog()[%d] = %+v, want %+v", i, all[i], first[i])
			}
		}
		if got, err := d.AccessLog(ctx, orgrel.AccessQuery{Mailbox: "ALICE@contoso.example"}); err != nil || len(got) != len(first) {
			t.Errorf("AccessLog(alice) = %d entries, %v, want %d, each once", len(got), err, len(first))
		}
		if got, err := d.AccessLog(ctx, orgrel.AccessQuery{Mailbox: "room1200@contoso.example"}); err != nil || len(got) != 1 || got[0].ID != first[1200].ID {
			t.Errorf("AccessLog(room1200) = %+v, %v, want the last entry", got, err)
		}
		// The newest rows pruned: their ids are not given again.
		if n, err := d.PruneAccessLog(ctx, t0.Add(time.Second), 5000); err != nil || n != int64(len(first)) {
			t.Fatalf("PruneAccessLog = %d, %v, want %d", n, err, len(first))
		}
		second := batch(2, t0.Add(time.Minute))
		if err := d.RecordAccess(ctx, second); err != nil {
			t.Fatal(err)
		}
		if last := first[len(first)-1].ID; second[0].ID <= last || second[1].ID <= second[0].ID {
			t.Errorf("ids after pruning = %d, %d, want increasing past %d", second[0].ID, second[1].ID, last)
		}
	})
}

// BenchmarkRecordAccess writes the access log as a busy server does:
// batches of 500 requests of two mailboxes each, to SQLite.
func BenchmarkRecordAccess(b *testing.B) {
	d, err := Open(context.Background(), Config{Driver: "sqlite", DSN: b.TempDir() + "/calfed.db"})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	batch := make([]orgrel.AccessEntry, 500)
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			batch[i] = orgrel.AccessEntry{At: time.Now(), Relationship: "Partner", Domain: "partner.example", Account: "svc-partner",
				Operation: "GetUserAvailability", Outcome: orgrel.AccessOK, Status: 200, Duration: time.Millisecond,
				Mailbox: []orgrel.MailboxAccess{{Address: "alice@contoso.example", View: "FreeBusyMerged", Outcome: "OK"},
					{Address: "bob@contoso.example", View: "FreeBusyMerged", Outcome: "OK"}}}
		}
		if err := d.RecordAccess(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/entry")
}

// A snapshot carries the time its change was made: none before the
// first, the writer's clock after.
func TestSnapshotChangedAt(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
		b.cfg.Now = func() time.Time { return at }
		d := open(t, b)
		ctx := context.Background()
		if s, err := d.Snapshot(ctx); err != nil || !s.ChangedAt.IsZero() {
			t.Fatalf("before any change: ChangedAt %v, %v", s.ChangedAt, err)
		}
		if _, err := d.CreateRelationship(ctx, "test", orgrel.Relationship{Name: "P", Domains: []string{"p.example"}}); err != nil {
			t.Fatal(err)
		}
		if s, err := d.Snapshot(ctx); err != nil || !s.ChangedAt.Equal(at) || s.Counter != 1 {
			t.Errorf("after a change: %+v, %v; want change 1 at %v", s, err, at)
		}
	})
}

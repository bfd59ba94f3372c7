package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/live"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
)

// stuckStore is a server's view of the store whose snapshots fail while
// stuck is set, as with a table it may no longer read.
type stuckStore struct {
	*store.DB
	stuck atomic.Bool
}

func (s *stuckStore) Snapshot(ctx context.Context) (*orgrel.Snapshot, error) {
	if s.stuck.Load() {
		return nil, errors.New("injected: permission denied for table service_accounts")
	}
	return s.DB.Snapshot(ctx)
}

// firstReport closes reported after the server's first report.
type firstReport struct {
	live.Reporter
	once     sync.Once
	reported chan struct{}
}

func (f *firstReport) ReportServer(ctx context.Context, s orgrel.Server) error {
	err := f.Reporter.ReportServer(ctx, s)
	f.once.Do(func() { close(f.reported) })
	return err
}

// The commands that change access wait until every running server has
// applied the change: two servers on one store, locally and through the
// admin API; a server whose reloads fail is named with its error and the
// command exits 1; once it heals, the next change reaches both.
func TestChangesWaitForEveryServer(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	path := filepath.Join(dir, "calfed.yaml")
	os.WriteFile(path, []byte("mailboxes:\n  - address: alice@contoso.example\n    calendar: a.ics\n"), 0o644)
	t.Setenv("CALFED_CONFIG", path)
	t.Setenv("CALFED_ADMIN_URL", "")
	cli := cliFor(t)
	cli(exitOK, "orgrel", "new", "Partner", "-domains", "partner.example", "-free-busy")
	// Nothing runs yet: nothing to wait for.
	if out := cli(exitOK, "orgrel", "set", "Partner", "-level", "LimitedDetails"); !strings.Contains(out, "no server is running on this store") {
		t.Errorf("set without servers:\n%s", out)
	}

	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cfg.Build()
	if err != nil {
		t.Fatal(err)
	}
	db, err := cfg.OpenStore(t.Context(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	var running sync.WaitGroup
	t.Cleanup(func() { cancel(); running.Wait() })
	servers := map[string]*live.Policy{}
	stores := map[string]*stuckStore{}
	for _, id := range []string{"server-a", "server-b"} {
		st := &stuckStore{DB: db}
		rep := &firstReport{Reporter: db, reported: make(chan struct{})}
		p, err := live.New(ctx, live.Options{Store: st, Reporter: rep, Validation: cfg.TrustService(db, nil), Defaults: b.Sharing, ID: id,
			Heartbeat: time.Second, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		running.Add(1)
		go func() { defer running.Done(); p.Run(ctx) }()
		<-rep.reported
		servers[id], stores[id] = p, st
	}
	partner := identity.Caller{Domain: "partner.example"}
	related := func(id string) bool { return servers[id].Access(partner, "alice@contoso.example", nil).Related }
	applied := regexp.MustCompile(`applied by 2 of 2 servers in (\d+ ms|[0-9.]+s)`)

	if out := cli(exitOK, "orgrel", "disable", "Partner"); !applied.MatchString(out) {
		t.Errorf("disable:\n%s", out)
	}
	if related("server-a") || related("server-b") {
		t.Error("after disable returned, a server still relates the partner")
	}

	// server-b can no longer read the store.
	stores["server-b"].stuck.Store(true)
	// (long enough for server-a to apply the change on a loaded machine)
	out := cli(exitError, "orgrel", "enable", "Partner", "-wait", "3s")
	for _, want := range []string{"the change is saved but not yet in force on every server", "applied by 1 of 2 servers within 3s; not by server-b (at change ",
		"reloads failing since ", "injected: permission denied for table service_accounts"} {
		if !strings.Contains(out, want) {
			t.Errorf("enable with server-b stuck: no %q in\n%s", want, out)
		}
	}
	if !related("server-a") || related("server-b") {
		t.Errorf("with server-b stuck: server-a relates %v, server-b %v; want true, false", related("server-a"), related("server-b"))
	}

	// It heals: its retries land the change it missed, and the next one.
	stores["server-b"].stuck.Store(false)
	if out := cli(exitOK, "mailbox", "share", "alice@contoso.example", "-level", "LimitedDetails"); !applied.MatchString(out) {
		t.Errorf("mailbox share after healing:\n%s", out)
	}
	if !related("server-b") {
		t.Error("after healing: server-b does not relate the partner again")
	}

	// Through the admin API, the same; -o json keeps standard output JSON.
	svc := admin.NewService(db, cfg.TrustService(db, nil), b.Mailboxes())
	token := strings.Repeat("t", 32)
	api := httptest.NewServer(newAdminRouter(admin.NewHandler(svc, token, nil).Routes()))
	t.Cleanup(api.Close)
	var o, e strings.Builder
	if code := run(t.Context(), []string{"orgrel", "remove", "Partner", "-server", api.URL, "-token", token, "-o", "json"}, &o, &e); code != exitOK ||
		!applied.MatchString(e.String()) || !json.Valid([]byte(o.String())) {
		t.Errorf("remove through the admin API: exit %d\n%s\n%s", code, o.String(), e.String())
	}
	if related("server-a") || related("server-b") {
		t.Error("after remove returned, a server still relates the partner")
	}
	if out := cli(exitOK, "mailbox", "share", "alice@contoso.example", "-level", "None", "-wait", "0"); strings.Contains(out, "applied by") {
		t.Errorf("-wait 0 waited:\n%s", out)
	}
	// A bad -wait is refused before anything changes.
	if out := cli(exitFailed, "mailbox", "share", "alice@contoso.example", "-level", "LimitedDetails", "-wait", "-1s"); !strings.Contains(out, "-wait") {
		t.Errorf("-wait -1s:\n%s", out)
	}
	if out := cli(exitOK, "mailbox", "show", "alice@contoso.example"); !strings.Contains(out, "None") {
		t.Errorf("a refused -wait changed the sharing:\n%s", out)
	}
}

// calfed serve records itself in the store while it runs and removes its
// record when it stops, so a stopped server is not waited for.
func TestServeReportsItselfAndLeaves(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ics"), []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), 0o644)
	path := filepath.Join(dir, "calfed.yaml")
	os.WriteFile(path, []byte("mailboxes:\n  - address: alice@contoso.example\n    calendar: a.ics\n"), 0o644)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := cfg.OpenStore(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(t.Context())
	var logged safeBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"serve", "-config", path, "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0"}, &logged, &logged)
	}()
	var servers []orgrel.Server
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && len(servers) == 0; {
		servers, _ = db.Servers(t.Context())
		time.Sleep(10 * time.Millisecond) // polling the store, not timing anything
	}
	if len(servers) != 1 || !strings.Contains(servers[0].ID, fmt.Sprintf("/%d/", os.Getpid())) || servers[0].Error != "" ||
		!strings.Contains(logged.String(), "server="+servers[0].ID) {
		t.Fatalf("while serving: %+v\n%s", servers, logged.String())
	}
	cancel()
	if code := <-exit; code != exitOK {
		t.Fatalf("serve: exit %d\n%s", code, logged.String())
	}
	if servers, err := db.Servers(t.Context()); err != nil || len(servers) != 0 {
		t.Errorf("after serve stopped: %+v, %v", servers, err)
	}
}

package store

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calfed/calfed/orgrel"
)

const crashWriterEnv = "CALFED_STORE_CRASH_WRITER"

// TestMain lets this test binary double as the writer process that
// TestKillDuringBurstLosesNothing kills.
func TestMain(m *testing.M) {
	if cfg := os.Getenv(crashWriterEnv); cfg != "" {
		os.Exit(crashWriter(cfg))
	}
	os.Exit(m.Run())
}

// crashWriter creates relationships as fast as it can, printing the name
// of each one after its commit returns, until it is killed.
func crashWriter(cfgJSON string) int {
	var cfg struct{ Driver, DSN string }
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	d, err := Open(context.Background(), Config{Driver: cfg.Driver, DSN: cfg.DSN})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		name := fmt.Sprintf("R%d", i)
		if _, err := d.CreateRelationship(context.Background(), "writer", orgrel.Relationship{Name: name, Domains: []string{fmt.Sprintf("r%d.example", i)}}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintln(out, name)
		out.Flush()
	}
}

// Kill -9 a process in the middle of a burst of changes: every change it
// saw committed is there, and nothing is half written.
func TestKillDuringBurstLosesNothing(t *testing.T) {
	for _, k := range backends {
		t.Run(k.name, func(t *testing.T) {
			b := backend{k.name, k.config(t)}
			open(t, b).Close() // create the schema first
			cfg, err := json.Marshal(struct{ Driver, DSN string }{b.cfg.Driver, b.cfg.DSN})
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashWriterEnv+"="+string(cfg))
			stdout, _ := cmd.StdoutPipe()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var committed []string
			sc := bufio.NewScanner(stdout)
			for len(committed) < 40 && sc.Scan() {
				committed = append(committed, sc.Text())
			}
			cmd.Process.Signal(syscall.SIGKILL)
			for sc.Scan() { // lines already written before the kill
				committed = append(committed, sc.Text())
			}
			cmd.Wait()
			if len(committed) < 40 {
				t.Fatalf("writer stopped after %d changes: %s", len(committed), stderr.String())
			}
			d := open(t, b)
			ctx := context.Background()
			rs, err := d.Relationships(ctx)
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, r := range rs {
				have[r.Name] = true
				if len(r.Domains) != 1 {
					t.Errorf("%s has %d domains: half written", r.Name, len(r.Domains))
				}
			}
			for _, name := range committed {
				if !have[name] {
					t.Errorf("%s was committed before the kill and is gone", name)
				}
			}
			entries, _ := d.Audit(ctx, time.Time{}, 0)
			counter, _ := d.Counter(ctx)
			if len(entries) != len(rs) || counter != int64(len(rs)) {
				t.Errorf("%d relationships, %d audit entries, counter %d: a change and its record came apart", len(rs), len(entries), counter)
			}
			if b.name == "sqlite" {
				var check string
				d.db.QueryRow("PRAGMA integrity_check").Scan(&check)
				if check != "ok" {
					t.Errorf("integrity_check: %s", check)
				}
			}
			t.Logf("%s: killed after %d acknowledged changes; %d in the database", b.name, len(committed), len(rs))
		})
	}
}

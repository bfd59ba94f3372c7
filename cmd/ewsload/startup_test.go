package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calfed/calfed/calendar"
)

// The test binary stands in for calfed serve when this is set: it logs
// its listeners as calfed does and is ready on the third /readyz.
const fakeServeEnv = "EWSLOAD_FAKE_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(fakeServeEnv) != "" {
		fakeServe()
		return
	}
	if f := os.Getenv(floorEnv); f != "" { // the echo floor's process, as in main
		os.Exit(serveFloor(f, os.Getenv(floorTypeEnv), os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

func fakeServe() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(3)
	}
	var asked atomic.Int32
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if asked.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"ready":false,"checks":[{"name":"calendars","ok":false,"detail":"loading: 1 of 2 loaded"}]}`)
			return
		}
		fmt.Fprint(w, `{"ready":true}`)
	}))
	fmt.Fprintf(os.Stderr, "time=x level=INFO msg=listening ews=http://127.0.0.1:1/EWS/Exchange.asmx store=sqlite\n")
	fmt.Fprintf(os.Stderr, "time=x level=INFO msg=\"admin listener: /healthz, /readyz, /metrics\" url=http://%s admin_api=false pprof=false\n", ln.Addr())
	select {}
}

func TestStartupMeasuresListeningAndReadiness(t *testing.T) {
	t.Setenv(fakeServeEnv, "1")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	res, err := startup(self, "unused.yaml", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.listening <= 0 || res.ready < res.listening {
		t.Errorf("listening %v, ready %v", res.listening, res.ready)
	}
	if res.progress != `{"ready":true}` {
		t.Errorf("last readyz answer %q", res.progress)
	}
	if res.peakRSS <= 0 || res.rssAtReady <= 0 || res.peakRSS < res.rssAtReady {
		t.Errorf("rss %d, peak %d", res.rssAtReady, res.peakRSS)
	}
	var out bytes.Buffer
	res.print(&out)
	if !strings.Contains(out.String(), "ready ") || !strings.Contains(out.String(), "peak ") {
		t.Errorf("printed:\n%s", out.String())
	}
}

func TestStartupFailsWhenTheServerSaysNothing(t *testing.T) {
	if _, err := startup("/bin/true", "unused.yaml", time.Minute); err == nil {
		t.Fatal("a server that exits at once measured as started")
	}
}

// The realistic directory is one calfed reads: each calendar parses
// without a problem, and the configuration names each file.
func TestRealisticDirectory(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"-realistic", dir, "-mailboxes", "3"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "calfed.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		name := fmt.Sprintf("user%d.ics", i)
		if !strings.Contains(string(cfg), "address: user"+fmt.Sprint(i)+"@ours.example") || !strings.Contains(string(cfg), "calendars/"+name) {
			t.Errorf("calfed.yaml does not list %s:\n%s", name, cfg)
		}
		data, err := os.ReadFile(filepath.Join(dir, "calendars", name))
		if err != nil {
			t.Fatal(err)
		}
		c, err := calendar.Parse([]calendar.File{{Name: name, Data: data}}, calendar.Options{})
		if err != nil || len(c.Problems()) > 0 || c.Len() == 0 {
			t.Errorf("%s: %v, %d problems, %d instances", name, err, len(c.Problems()), c.Len())
		}
	}
}

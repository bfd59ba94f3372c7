package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/calfed/calfed/internal/synth"
)

// Start-up: how long a calfed serving a large directory takes to listen
// and to be ready, and what memory and CPU that costs, measured from
// outside as an operator's probe sees it.

// writeRealistic writes n realistic mailboxes' calendars (synth.Realistic,
// seeded by their number, laid out around now) under dir/calendars, and
// dir/calfed.yaml listing them, for -startup and for load runs.
func writeRealistic(dir string, n int, now time.Time) error {
	cals := filepath.Join(dir, "calendars")
	if err := os.MkdirAll(cals, 0o755); err != nil {
		return err
	}
	var cfg strings.Builder
	cfg.WriteString("data_dir: data\nmailboxes:\n")
	for i := range n {
		name := fmt.Sprintf("user%d.ics", i)
		if err := os.WriteFile(filepath.Join(cals, name), synth.Realistic(uint64(i), now), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&cfg, "  - address: user%d@ours.example\n    time_zone: Europe/London\n    calendar: calendars/%s\n", i, name)
	}
	return os.WriteFile(filepath.Join(dir, "calfed.yaml"), []byte(cfg.String()), 0o644)
}

// startupResult is what one start-up measured.
type startupResult struct {
	listening, ready time.Duration // from exec
	cpuAtListening   time.Duration // the server's CPU time then
	cpuAtReady       time.Duration
	rssAtReady       int64 // bytes
	peakRSS          int64 // VmHWM at ready: the most it held while loading
	progress         string
}

var (
	listeningLine = regexp.MustCompile(`msg=listening ews=(http://\S+)/EWS/Exchange\.asmx`)
	adminLine     = regexp.MustCompile(`msg="admin listener[^"]*" url=(http://\S+)`)
)

// startup runs `bin serve -config config` on free loopback ports, and
// measures the time until it logs that it listens (a connection is
// accepted from then on) and until its /readyz answers 200, with its CPU
// time and memory at each. It stops the server after, and gives up after
// limit.
func startup(bin, config string, limit time.Duration) (*startupResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "-config", config, "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0", "-log-level", "info")
	out, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	res := &startupResult{}
	lines := bufio.NewScanner(out)
	var admin string
	for admin == "" && lines.Scan() {
		l := lines.Text()
		if m := listeningLine.FindStringSubmatch(l); m != nil {
			res.listening = time.Since(began)
			res.cpuAtListening = cpuOf(cmd.Process.Pid)
		}
		if m := adminLine.FindStringSubmatch(l); m != nil {
			admin = m[1]
		}
	}
	if admin == "" || res.listening == 0 {
		return nil, fmt.Errorf("the server stopped or said nothing of its listeners (%v)", ctx.Err())
	}
	go io.Copy(io.Discard, out) // the server must never block on its log
	for {
		ok, body, err := readyz(ctx, admin)
		if err != nil {
			return nil, fmt.Errorf("waiting for %s/readyz: %w (last answer: %s)", admin, err, res.progress)
		}
		res.progress = body
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("not ready within %s: %s", limit, body)
		case <-time.After(20 * time.Millisecond):
		}
	}
	res.ready = time.Since(began)
	res.cpuAtReady = cpuOf(cmd.Process.Pid)
	res.rssAtReady, res.peakRSS = memOf(cmd.Process.Pid)
	return res, nil
}

// readyz asks the admin listener once whether the server is ready.
func readyz(ctx context.Context, admin string) (bool, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, admin+"/readyz", nil)
	if err != nil {
		return false, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	switch resp.StatusCode {
	case http.StatusOK:
		return true, strings.TrimSpace(string(b)), nil
	case http.StatusServiceUnavailable:
		return false, strings.TrimSpace(string(b)), nil
	}
	return false, "", fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
}

// cpuOf is a process's user and system CPU time so far (/proc/PID/stat,
// in clock ticks of 1/100 s as Linux reports them to user space).
func cpuOf(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which may hold spaces, in ().
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// memOf is a process's resident set now and at its peak, in bytes.
func memOf(pid int) (rss, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	field := func(name string) int64 {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, name+":"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				return kb << 10
			}
		}
		return 0
	}
	return field("VmRSS"), field("VmHWM")
}

func (r *startupResult) print(w io.Writer) {
	fmt.Fprintf(w, "listening   %.3f s (server CPU %.2f s)\n", r.listening.Seconds(), r.cpuAtListening.Seconds())
	fmt.Fprintf(w, "ready       %.3f s (server CPU %.2f s)\n", r.ready.Seconds(), r.cpuAtReady.Seconds())
	fmt.Fprintf(w, "rss         %.1f MiB at ready, peak %.1f MiB\n", float64(r.rssAtReady)/(1<<20), float64(r.peakRSS)/(1<<20))
	fmt.Fprintf(w, "readyz      %s\n", r.progress)
}

// runStartup is -startup: measures `count` start-ups in turn and prints
// each.
func runStartup(bin, config string, count int, limit time.Duration, stdout io.Writer) error {
	if bin == "" || config == "" {
		return errors.New("-startup needs -calfed BINARY and -config FILE")
	}
	for i := range count {
		res, err := startup(bin, config, limit)
		if err != nil {
			return fmt.Errorf("start-up %d: %w", i+1, err)
		}
		fmt.Fprintf(stdout, "start-up %d of %d\n", i+1, count)
		res.print(stdout)
	}
	return nil
}

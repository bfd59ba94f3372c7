package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/conformance"
	"github.com/calfed/calfed/delegation"
	"github.com/calfed/calfed/server"
	"github.com/calfed/calfed/store"
)

func runConformanceReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := newFlags("conformance replay")
	target := fl.String("target", "", "the server: scheme://host:port (required)")
	user := fl.String("user", "", "user for cases that authenticate with Basic")
	pwFile := fl.String("password-file", "", "file holding that user's password ($CALFED_REPLAY_PASSWORD otherwise)")
	parallel := fl.Int("parallel", 4, "cases run at once")
	output := fl.String("o", "table", "table or json")
	junit := fl.String("junit", "", "also write a JUnit XML report to FILE")
	asConfig := fl.String("as-config", "", "for federated cases: the calfed configuration of the requesters' organisation, whose certificate and token issuer mint their tokens")
	paths, err := parseVariadic(fl, args)
	if err != nil {
		return report(stdout, stderr, "conformance replay", err)
	}
	if *target == "" || len(paths) == 0 {
		return report(stdout, stderr, "conformance replay", usageError{Msg: "-target URL and at least one CORPUS are required"})
	}
	if u, err := url.Parse(*target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return report(stdout, stderr, "conformance replay", usageError{Msg: fmt.Sprintf("-target %q: want scheme://host[:port]", *target)})
	}
	if *output != "table" && *output != "json" {
		return report(stdout, stderr, "conformance replay", usageError{Msg: "-o: table or json"})
	}
	password := os.Getenv("CALFED_REPLAY_PASSWORD")
	if *pwFile != "" {
		b, err := os.ReadFile(*pwFile)
		if err != nil {
			return report(stdout, stderr, "conformance replay", err)
		}
		password = strings.TrimSpace(string(b))
	}
	cases, err := conformance.Load(paths...)
	if err != nil {
		return report(stdout, stderr, "conformance replay", err)
	}
	var progress func(done, total int)
	if isTerminal(stderr) {
		progress = func(done, total int) { fmt.Fprintf(stderr, "\r%d/%d cases", done, total) }
	}
	t := conformance.Target{URL: *target, User: *user, Password: password}
	if *asConfig != "" {
		cfg, err := config.Load(*asConfig)
		if err != nil {
			return report(stdout, stderr, "conformance replay", err)
		}
		db, err := cfg.OpenStore(ctx, nil)
		if err != nil {
			return report(stdout, stderr, "conformance replay", err)
		}
		defer db.Close()
		client, err := cfg.TrustService(db, nil).Client(ctx)
		if err != nil {
			return report(stdout, stderr, "conformance replay", fmt.Errorf("-as-config: %w", err))
		}
		t.Minter = minter{client}
	}
	results := conformance.Replay(ctx, t, cases, *parallel, progress)
	if progress != nil {
		fmt.Fprintln(stderr)
	}
	if *junit != "" {
		if err := conformance.WriteJUnitFile(*junit, "calfed conformance", results); err != nil {
			return report(stdout, stderr, "conformance replay", err)
		}
	}
	if *output == "json" {
		err = conformance.WriteJSON(stdout, results)
	} else {
		err = conformance.WriteTable(stdout, results)
	}
	if err != nil {
		return report(stdout, stderr, "conformance replay", err)
	}
	s := conformance.Summarize(results)
	switch {
	case s.Differ > 0:
		return exitFailed
	case s.Errors > 0:
		return exitError
	}
	return exitOK
}

// minter mints federated cases' tokens through our token issuer.
type minter struct{ c *delegation.Client }

func (m minter) Sign(ctx context.Context, claims conformance.TokenClaims, body []byte) ([]byte, error) {
	return m.c.WithToken(ctx, claims.Requester, claims.Audience, claims.Offer, body)
}

// isTerminal reports whether w is a character device (a progress display
// would be noise in a log file or a pipe).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runConformanceRecord(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := newFlags("conformance record")
	upstream := fl.String("upstream", "", "the server to record: scheme://host:port (required)")
	dir := fl.String("dir", "", "the corpus directory cases are written to (required)")
	listen := fl.String("listen", "127.0.0.1:8089", "where the proxy listens")
	if _, err := parseArgs(fl, args); err != nil {
		return report(stdout, stderr, "conformance record", err)
	}
	u, err := url.Parse(*upstream)
	if *upstream == "" || *dir == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return report(stdout, stderr, "conformance record", usageError{Msg: "-upstream scheme://host:port and -dir DIR are required"})
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	rec := &conformance.Recorder{Dir: *dir, Source: "recorded by calfed conformance record from " + u.Host, Log: log}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return report(stdout, stderr, "conformance record", err)
	}
	srv := server.NewHTTPServer(rec.Proxy(u), log)
	go func() { <-ctx.Done(); srv.Close() }()
	log.Info("recording", "listen", "http://"+ln.Addr().String(), "upstream", u.String(), "dir", *dir)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return report(stdout, stderr, "conformance record", err)
	}
	return exitOK
}

func runConformanceImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := newFlags("conformance import")
	dir := fl.String("dir", "", "the corpus directory the cases are written to (required)")
	prefix := fl.String("prefix", "", "prefix of the case names, e.g. partner-x/")
	fixture := fl.String("fixture", "", "the calendar data the captured answers assume")
	requester := fl.String("requester", "", "federated exchanges: the token's requester (EmailAddress claim)")
	audience := fl.String("audience", "", "federated exchanges: the ApplicationUri the token was issued for")
	files, err := parseVariadic(fl, args)
	if err != nil {
		return report(stdout, stderr, "conformance import", err)
	}
	if *dir == "" || len(files) == 0 {
		return report(stdout, stderr, "conformance import", usageError{Msg: "-dir DIR and at least one FILE (.har, .xml, or a raw HTTP exchange) are required"})
	}
	var token *conformance.TokenClaims
	if *requester != "" || *audience != "" {
		token = &conformance.TokenClaims{Requester: *requester, Audience: *audience}
	}
	cases, err := conformance.ImportFiles(files, *prefix, *fixture, token)
	if errors.Is(err, conformance.ErrCapture) {
		err = fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	if err != nil {
		return report(stdout, stderr, "conformance import", err)
	}
	for _, c := range cases {
		if err := conformance.Save(*dir, c); err != nil {
			return report(stdout, stderr, "conformance import", err)
		}
		fmt.Fprintf(stdout, "%s\t%s %s\n", c.Name, c.Request.Method, c.Request.Path)
	}
	return exitOK
}

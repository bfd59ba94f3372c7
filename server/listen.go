package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// NewHTTPServer is an http.Server for h with calfed's timeouts and header
// limit, logging its errors to log as warnings, each failed TLS handshake
// as one kind whatever the client's address.
func NewHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          serverErrorLog(log.Handler()),
	}
}

// Listeners serves handlers on TCP listeners until Wait returns. Its
// methods are for one goroutine.
type Listeners struct {
	// MaxConnections bounds each listener's open connections; more wait
	// in the kernel's queue. Zero: no bound.
	MaxConnections int
	Logger         *slog.Logger // required
	// ServerLog is where the servers log their errors, which outsiders
	// can cause (Quiet bounds them). Default Logger.
	ServerLog *slog.Logger

	servers []*http.Server
	failed  chan error // the first listener to fail
}

// Serve listens on addr and serves h there, over TLS when tc is set, and
// returns the address it listens on; name names the listener in errors.
func (l *Listeners) Serve(name, addr string, h http.Handler, tc *tls.Config) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("%s listener: %w", name, err)
	}
	if l.MaxConnections > 0 {
		ln = netutil.LimitListener(ln, l.MaxConnections)
	}
	if l.failed == nil {
		l.failed = make(chan error, 1)
	}
	log := l.ServerLog
	if log == nil {
		log = l.Logger
	}
	srv := NewHTTPServer(h, log)
	srv.TLSConfig = tc
	l.servers = append(l.servers, srv)
	go func() {
		var err error
		if tc != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			select {
			case l.failed <- fmt.Errorf("%s listener: %w", name, err):
			default: // another failed first
			}
		}
	}()
	return ln.Addr().String(), nil
}

// Wait returns the first listener's failure; or, once ctx ends, shuts
// every server down, giving requests under way 10 seconds to finish, and
// returns nil.
func (l *Listeners) Wait(ctx context.Context) error {
	select {
	case err := <-l.failed:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range l.servers {
		if err := srv.Shutdown(shutdown); err != nil {
			l.Logger.Warn("shutdown", "err", err)
		}
	}
	return nil
}

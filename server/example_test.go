package server_test

import (
	"context"
	"log"
	"log/slog"
	"net/http"
	"os"

	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/server"
)

// A configuration's server on loopback, until ctx ends. calfed serve
// mounts the routes on a router that lower-cases request paths first.
func Example() {
	ctx := context.Background()
	cfg, err := config.Load("calfed.yaml")
	if err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := server.Open(ctx, cfg, server.Options{Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	s.Start(ctx)
	mux := http.NewServeMux()
	for _, rt := range s.Routes() {
		mux.Handle(rt.Path, rt.Handler)
	}
	listeners := &server.Listeners{MaxConnections: cfg.Limits.MaxConnections, Logger: logger}
	if _, err := listeners.Serve("public", "127.0.0.1:8080", mux, nil); err != nil {
		log.Fatal(err)
	}
	if err := listeners.Wait(ctx); err != nil {
		log.Fatal(err)
	}
}

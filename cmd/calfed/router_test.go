package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"

	"github.com/calfed/calfed/server"
)

// exactFirst hands a request for a route's own path to its handler
// unchanged (the very request, not mux's copy), and gives every request
// the handler mux would: a route with variables mounted earlier keeps
// the paths it matches, the first of two routes on one path wins, and
// other paths (unclean, a trailing slash, unknown, variables) go through
// mux as before.
func TestExactFirst(t *testing.T) {
	var sent *http.Request
	reply := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r == sent {
				name += " direct"
			}
			io.WriteString(w, name+" "+r.PathValue("x"))
		})
	}
	routes := []server.Route{
		{Path: "/ews/exchange.asmx", Handler: reply("ews")},
		{Path: "/a/{x}", Handler: reply("var")},
		{Path: "/a/b", Handler: reply("shadowed")},
		{Path: "/ews/exchange.asmx", Handler: reply("second")},
		{Path: "/c", Handler: reply("c")},
	}
	r := mux.NewRouter()
	mounted := make([]*mux.Route, len(routes))
	for i, rt := range routes {
		mounted[i] = r.Path(rt.Path)
		handle(mounted[i], rt.Handler)
	}
	h := exactFirst(r, routes, mounted)
	for _, c := range []struct {
		path string
		code int
		body string
	}{
		{"/ews/exchange.asmx", 200, "ews direct "},
		{"/c", 200, "c direct "},
		{"/a/b", 200, "var b"},
		{"/a/z", 200, "var z"},
		{"/c/", 404, "404 page not found\n"},
		{"/x/../c", 301, ""},
		{"/nothing", 404, "404 page not found\n"},
	} {
		sent = httptest.NewRequest(http.MethodPost, c.path, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, sent)
		if rec.Code != c.code || (c.code != 301 && rec.Body.String() != c.body) {
			t.Errorf("%s: %d %q, want %d %q", c.path, rec.Code, rec.Body.String(), c.code, c.body)
		}
	}
}

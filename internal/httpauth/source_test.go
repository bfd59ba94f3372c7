package httpauth

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestSource(t *testing.T) {
	proxies := Sources{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}}
	tests := []struct {
		s      Sources
		remote string
		xff    []string
		want   string
	}{
		{Sources{}, "192.0.2.1:5000", nil, "192.0.2.1"},
		{Sources{}, "192.0.2.1:5000", []string{"198.51.100.9"}, "192.0.2.1"}, // not trusted: header ignored
		{Sources{}, "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::/64"},
		{Sources{}, "[::ffff:192.0.2.1]:443", nil, "192.0.2.1"},
		{proxies, "10.1.2.3:5000", []string{"198.51.100.9"}, "198.51.100.9"},
		{proxies, "10.1.2.3:5000", []string{"203.0.113.5, 198.51.100.9, 10.9.9.9"}, "198.51.100.9"}, // rightmost not ours
		{proxies, "10.1.2.3:5000", []string{"203.0.113.5", "198.51.100.9"}, "198.51.100.9"},
		{proxies, "10.1.2.3:5000", []string{"junk, 10.2.2.2"}, "10.2.2.2"},
		{proxies, "10.1.2.3:5000", nil, "10.1.2.3"},
		{proxies, "192.0.2.1:5000", []string{"198.51.100.9"}, "192.0.2.1"}, // from outside: header ignored
		{proxies, "[2001:db8:ffff::1]:443", []string{"2001:db8:7:7::1"}, "2001:db8:7:7::/64"},
		{Sources{}, "pipe", nil, "pipe"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		for _, h := range tt.xff {
			r.Header.Add("X-Forwarded-For", h)
		}
		if got := tt.s.Source(r); got != tt.want {
			t.Errorf("Source(%s, X-Forwarded-For %q) = %q, want %q", tt.remote, tt.xff, got, tt.want)
		}
	}
}

package interop

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/federation"
)

// The answers calfed gives a refused delegation token, as Exchange gives
// them (federation/answer.go, FINDINGS §5b), surface as errors in both
// real clients: the InvalidSecurityToken fault, the empty 401 and the
// ErrorAccessDenied fault. The server answers every request with the
// refusal, written by the functions calfed's guard uses.
func TestRefusalsSurfaceAsErrors(t *testing.T) {
	requireClients(t)
	for _, tt := range []struct {
		name string
		err  error
		// what each client's error must say
		exchangelib, js *regexp.Regexp
	}{
		{"a token that cannot be processed", federation.ErrDecrypt,
			regexp.MustCompile(`An error occurred when processing the security tokens in the message`),
			regexp.MustCompile(`An error occurred when processing the security tokens in the message`)},
		{"a refused claim", federation.ErrExpired,
			regexp.MustCompile(`(?i)unauthorized|401|credentials`),
			regexp.MustCompile(`(?i)unauthorized|401`)},
		{"another offer", fmt.Errorf("%w: MSExchange.Autodiscover", federation.ErrOffer),
			regexp.MustCompile(`ErrorAccessDenied|Access is denied`),
			regexp.MustCompile(`ErrorAccessDenied|Access is denied`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				federation.RefuseEWS(w, r, tt.err)
			}))
			defer srv.Close()
			url := srv.URL + "/EWS/Exchange.asmx"
			for _, c := range []struct {
				name string
				args []string
				want *regexp.Regexp
			}{
				{"exchangelib", []string{debianPy, "python/freebusy.py", url, "svc", "secret-secret", "Europe/London",
					"2026-03-24T00:00:00", "2026-03-25T00:00:00", "FreeBusyMerged", "60", "bob@b.example"}, tt.exchangelib},
				{"ews-javascript-api", []string{"node", "js/freebusy.js", url, "svc", "secret-secret",
					"2026-03-24T00:00:00", "2026-03-25T00:00:00", "FreeBusyMerged", "60", "bob@b.example"}, tt.js},
			} {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				cmd := exec.CommandContext(ctx, c.args[0], c.args[1:]...)
				cmd.Env = os.Environ()
				out, err := cmd.CombinedOutput()
				cancel()
				if err == nil || strings.Contains(string(out), `"error": "NoError"`) {
					t.Errorf("%s took the refusal for an answer: %v\n%s", c.name, err, out)
					continue
				}
				if !c.want.Match(out) {
					t.Errorf("%s's error does not say %v:\n%s", c.name, c.want, out)
				}
			}
		})
	}
}

package httpauth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/calfed/calfed/internal/httpauth"
	"github.com/calfed/calfed/orgrel"
)

// gatedVerifier stands in for argon2id: each call is logged and then waits
// for the test to let one verification finish, so the test counts progress
// in verifications, never in wall-clock time.
type gatedVerifier struct {
	gate chan struct{}
	mu   sync.Mutex
	log  []string // secrets, in the order their verification started
}

func (g *gatedVerifier) verify(_, secret string) (bool, error) {
	g.mu.Lock()
	g.log = append(g.log, secret)
	g.mu.Unlock()
	<-g.gate
	return secret == "the-right-secret", nil
}

func (g *gatedVerifier) calls() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.log...)
}

// 32 sources guess a partner's secret, four requests in flight each, while
// the partner signs in from its own address with a secret not yet cached.
// The partner's verification starts within one round of the hashing
// queue: at most one verification per guessing source (plus those already
// running), however many each has waiting; every guessing source is
// throttled after its failures and stops reaching the verifier.
func TestLegitimateSignInIsNotQueuedBehindGuessers(t *testing.T) {
	const (
		sources   = 32
		inFlight  = 4 // per guessing source
		attempts  = 10
		workers   = 2
		perSource = 4
	)
	synctest.Test(t, func(t *testing.T) {
		g := &gatedVerifier{gate: make(chan struct{})}
		hash, err := orgrel.HashSecret("the-right-secret")
		if err != nil {
			t.Fatal(err)
		}
		p, _ := orgrel.NewPolicy([]orgrel.Relationship{{Name: "Partner", Domains: []string{"partner.example"}, Enabled: true}}, nil)
		v := orgrel.NewVerifier(orgrel.VerifierOptions{Workers: workers, PerSource: perSource, Verify: g.verify})
		accts, err := orgrel.NewAccounts([]orgrel.ServiceAccount{{Name: "svc-partner", Relationship: "Partner", SecretHash: hash}}, p, v)
		if err != nil {
			t.Fatal(err)
		}
		limits := httpauth.LimitOptions{}
		b := &httpauth.Basic{Auth: accts, Realm: "calfed", Limiter: httpauth.NewLimiter(limits)}
		h := b.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		do := func(remote, secret string) int {
			req := httptest.NewRequest(http.MethodPost, "/EWS/Exchange.asmx", nil)
			req.RemoteAddr = remote
			req.SetBasicAuth("svc-partner", secret)
			rw := httptest.NewRecorder()
			h.ServeHTTP(rw, req)
			return rw.Code
		}

		var wg sync.WaitGroup
		for s := range sources {
			for f := range inFlight {
				wg.Go(func() {
					for n := range attempts {
						do(fmt.Sprintf("198.51.100.%d:4000", s), fmt.Sprintf("guess-%d-%d-%d", s, f, n))
					}
				})
			}
		}
		synctest.Wait() // every guesser is hashing, waiting for a turn, or done
		before := len(g.calls())
		status := make(chan int, 1)
		go func() { status <- do("203.0.113.7:4000", "the-right-secret") }()
		synctest.Wait() // the sign-in waits for its turn

		ahead := -1
		for ahead < 0 {
			calls := g.calls()
			for i, s := range calls[before:] {
				if s == "the-right-secret" {
					ahead = i
				}
			}
			if ahead < 0 {
				if len(calls) == before+sources*inFlight*attempts {
					t.Fatal("the sign-in never reached the verifier")
				}
				g.gate <- struct{}{} // one verification finishes
				synctest.Wait()
			}
		}
		// Let everything else finish.
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		for finished := false; !finished; {
			select {
			case g.gate <- struct{}{}:
			case <-done:
				finished = true
			}
		}
		if code := <-status; code != http.StatusOK {
			t.Errorf("the partner's sign-in: %d, want 200", code)
		}
		calls := g.calls()
		t.Logf("verifications started before the sign-in's, after it asked: %d (bound %d); guessers' verifications in all: %d of %d attempts",
			ahead, sources+workers, len(calls)-1, sources*inFlight*attempts)
		if ahead > sources+workers {
			t.Errorf("%d verifications went ahead of the sign-in, want at most %d (one per guessing source, plus those running)", ahead, sources+workers)
		}
		perSrc := map[string]int{}
		for _, s := range calls {
			var src, f, n int
			if _, err := fmt.Sscanf(s, "guess-%d-%d-%d", &src, &f, &n); err == nil {
				perSrc[fmt.Sprint(src)]++
			}
		}
		// MaxFailures, plus what was already waiting when the lock-out
		// began; each refusal is two verifications (the secret, then the
		// previous secret or the dummy: orgrel.Accounts.Authenticate).
		maxPer := 2 * (5 + perSource - 1)
		for src, n := range perSrc {
			if n > maxPer {
				t.Errorf("source %s reached the verifier %d times, want at most %d", src, n, maxPer)
			}
		}
	})
}

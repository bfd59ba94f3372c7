package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/calfed/calfed/internal/outbound"
)

// Minter makes a fresh delegation token for a federated case and puts
// it into the request body's SOAP header.
type Minter interface {
	Sign(ctx context.Context, claims TokenClaims, body []byte) ([]byte, error)
}

// Target is the server cases are replayed against.
type Target struct {
	URL string // scheme://host[:port], no path
	// User and Password answer auth: basic cases; a case's own user, when
	// it names one, goes with Password.
	User, Password string
	Minter         Minter // for auth: token cases; nil refuses them
	Client         *http.Client
}

// Outcome of one case.
type Outcome string

const (
	Equal  Outcome = "equal"
	Differ Outcome = "differ"
	Failed Outcome = "error" // the case could not be run
)

// Result is one case's replay.
type Result struct {
	Case        string        `json:"case"`
	Source      string        `json:"source"`
	Outcome     Outcome       `json:"outcome"`
	Differences []Difference  `json:"differences,omitempty"`
	Error       string        `json:"error,omitempty"`
	Duration    time.Duration `json:"duration_ns"`
	// Status and Body are the answer got, for a recorder or a report.
	Status int    `json:"-"`
	Body   []byte `json:"-"`
}

// maxAnswer bounds what is read of an answer.
const maxAnswer = 32 << 20

// Replay runs every case against t, parallel at a time (1 when cases
// must not overlap), calling progress after each.
func Replay(ctx context.Context, t Target, cases []*Case, parallel int, progress func(done, total int)) []Result {
	if parallel < 1 {
		parallel = 1
	}
	client := t.Client
	if client == nil {
		client = &http.Client{Transport: outbound.Default().HTTP(0).Transport, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	results := make([]Result, len(cases))
	work := make(chan int)
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = replayOne(ctx, t, client, cases[i])
				mu.Lock()
				done++
				if progress != nil {
					progress(done, len(cases))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range cases {
		work <- i
	}
	close(work)
	wg.Wait()
	return results
}

func replayOne(ctx context.Context, t Target, client *http.Client, c *Case) Result {
	start := time.Now()
	r := Result{Case: c.Name, Source: c.Source}
	fail := func(err error) Result {
		r.Outcome, r.Error, r.Duration = Failed, err.Error(), time.Since(start)
		return r
	}
	body := c.RequestBody
	if c.Request.Auth == AuthToken {
		if t.Minter == nil {
			return fail(errors.New("a federated case: give a token issuer to mint its token"))
		}
		var err error
		if body, err = t.Minter.Sign(ctx, *c.Request.Token, body); err != nil {
			return fail(fmt.Errorf("minting a token: %w", err))
		}
	}
	req, err := http.NewRequestWithContext(ctx, c.Request.Method, strings.TrimSuffix(t.URL, "/")+c.Request.Path, bytes.NewReader(body))
	if err != nil {
		return fail(err)
	}
	for k, v := range c.Request.Headers {
		req.Header.Set(k, v)
	}
	if c.Request.Auth == AuthBasic {
		user := c.Request.User
		if user == "" {
			user = t.User
		}
		if user == "" || t.Password == "" {
			return fail(errors.New("the case needs Basic credentials: give a user and password"))
		}
		req.SetBasicAuth(user, t.Password)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fail(err)
	}
	if len(got) > maxAnswer {
		return fail(errors.New("the answer is larger than 32 MiB"))
	}
	r.Status, r.Body = resp.StatusCode, got
	r.Differences, err = Compare(c.ForTarget(t.URL), resp.StatusCode, resp.Header, got)
	if err != nil {
		return fail(err)
	}
	r.Outcome = Equal
	if len(r.Differences) > 0 {
		r.Outcome = Differ
	}
	r.Duration = time.Since(start)
	return r
}

// ForTarget is c with its recorded origin replaced by target's in the
// expected answer, so URLs the server builds from its own address match.
func (c *Case) ForTarget(target string) *Case {
	target = strings.TrimSuffix(target, "/")
	if c.Origin == "" || c.Origin == target {
		return c
	}
	cc := *c
	cc.ResponseBody = bytes.ReplaceAll(c.ResponseBody, []byte(c.Origin), []byte(target))
	cc.Response.Headers = map[string]string{}
	for k, v := range c.Response.Headers {
		cc.Response.Headers[k] = strings.ReplaceAll(v, c.Origin, target)
	}
	return &cc
}

// Compare judges an answer against the case's expected one.
func Compare(c *Case, status int, header http.Header, body []byte) ([]Difference, error) {
	var diffs []Difference
	if status != c.Response.Status {
		diffs = append(diffs, Difference{Path: "HTTP status", Expected: fmt.Sprint(c.Response.Status), Got: fmt.Sprint(status)})
	}
	var names []string
	for k := range c.Response.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if want, got := c.Response.Headers[k], header.Get(k); !sameHeader(k, want, got) {
			diffs = append(diffs, Difference{Path: "header " + k, Expected: want, Got: got})
		}
	}
	if c.Compare == CompareStatus {
		return diffs, nil
	}
	if !looksXML(c.ResponseBody) {
		if !bytes.Equal(bytes.TrimSpace(c.ResponseBody), bytes.TrimSpace(body)) {
			diffs = append(diffs, Difference{Path: "body", Expected: string(c.ResponseBody), Got: string(body)})
		}
		return diffs, nil
	}
	expected := c.ResponseBody
	for _, r := range c.Normalise {
		re := regexp.MustCompile(r.Pattern) // checked by Validate
		expected, body = re.ReplaceAll(expected, []byte(r.Replace)), re.ReplaceAll(body, []byte(r.Replace))
	}
	more, err := CompareXMLBodies(expected, body, c.Compare, c.Ignore)
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", c.Name, err)
	}
	return append(diffs, more...), nil
}

// sameHeader compares header values by meaning: media types without
// case or parameter order.
func sameHeader(name, want, got string) bool {
	if want == got {
		return true
	}
	if strings.EqualFold(name, "Content-Type") {
		wt, wp, err1 := mime.ParseMediaType(want)
		gt, gp, err2 := mime.ParseMediaType(got)
		if err1 != nil || err2 != nil || wt != gt || len(wp) != len(gp) {
			return false
		}
		for k, v := range wp {
			if !strings.EqualFold(gp[k], v) {
				return false
			}
		}
		return true
	}
	return false
}

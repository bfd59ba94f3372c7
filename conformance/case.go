package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Case is one captured exchange and how to judge a new answer to it.
// On disk it is a directory: case.yaml, request.body, response.body.
type Case struct {
	Name string `yaml:"-"` // the directory's path within the corpus
	Dir  string `yaml:"-"`

	Source   string    `yaml:"source"`            // where the capture came from
	Captured time.Time `yaml:"captured"`          // when it was captured
	Fixture  string    `yaml:"fixture,omitempty"` // the calendar data the expected answer assumes, e.g. "demo"
	// Origin is the scheme and host the capture was served at; in the
	// expected answer it stands for the replay target's own.
	Origin string `yaml:"origin,omitempty"`
	// Compare is xml (default), freebusy or status.
	Compare Comparison `yaml:"compare,omitempty"`
	// Ignore are local names of elements and attributes to skip, on top
	// of DefaultIgnore.
	Ignore []string `yaml:"ignore,omitempty"`
	// Normalise rewrites both answers before they are compared, for
	// values that change with the clock (a year in a time zone rule).
	Normalise []Rewrite `yaml:"normalise,omitempty"`
	Request   Request   `yaml:"request"`
	Response  Response  `yaml:"response"`

	RequestBody  []byte `yaml:"-"`
	ResponseBody []byte `yaml:"-"`
}

// Rewrite replaces every match of Pattern (a Go regular expression) with
// Replace ($1 for groups).
type Rewrite struct {
	Pattern string `yaml:"pattern"`
	Replace string `yaml:"replace"`
}

// Request is what was sent, minus its secrets.
type Request struct {
	Method  string            `yaml:"method"`
	Path    string            `yaml:"path"` // with the query
	Headers map[string]string `yaml:"headers,omitempty"`
	// Auth is how the replay authenticates: none, basic (the runner's
	// credentials) or token (a fresh delegation token with Token's claims).
	Auth string `yaml:"auth,omitempty"`
	// User is the account a basic case authenticated as; the replay
	// sends it with the runner's password.
	User  string       `yaml:"user,omitempty"`
	Token *TokenClaims `yaml:"token,omitempty"`
}

// TokenClaims are what a captured delegation token said; the token
// itself is expired and encrypted to someone else's key, so the runner
// mints a new one with these claims for the target.
type TokenClaims struct {
	Requester string `yaml:"requester"` // EmailAddress claim
	Audience  string `yaml:"audience"`  // the ApplicationUri it was issued for
	Offer     string `yaml:"offer"`     // MSExchange.SharingCalendarFreeBusy, MSExchange.Autodiscover
}

// Response is what came back; only the headers listed are compared.
type Response struct {
	Status  int               `yaml:"status"`
	Headers map[string]string `yaml:"headers,omitempty"`
}

const (
	caseFile     = "case.yaml"
	requestFile  = "request.body"
	responseFile = "response.body"
)

// Auth values.
const (
	AuthNone  = "none"
	AuthBasic = "basic"
	AuthToken = "token"
)

// Validate checks a case is complete and carries no secret.
func (c *Case) Validate() error {
	var problems []string
	if c.Request.Method == "" || !strings.HasPrefix(c.Request.Path, "/") {
		problems = append(problems, "request: method and a path starting with / are required")
	}
	if c.Response.Status < 100 || c.Response.Status > 599 {
		problems = append(problems, fmt.Sprintf("response: status %d is not an HTTP status", c.Response.Status))
	}
	switch c.Compare {
	case "", CompareXML, CompareFreeBusy, CompareStatus:
	default:
		problems = append(problems, fmt.Sprintf("compare: %q is not xml, freebusy or status", c.Compare))
	}
	switch c.Request.Auth {
	case "", AuthNone, AuthBasic:
	case AuthToken:
		if c.Request.Token == nil || c.Request.Token.Requester == "" || c.Request.Token.Offer == "" {
			problems = append(problems, "request: auth token needs token.requester and token.offer")
		}
	default:
		problems = append(problems, fmt.Sprintf("request: auth %q is not none, basic or token", c.Request.Auth))
	}
	for _, r := range c.Normalise {
		if _, err := regexp.Compile(r.Pattern); err != nil {
			problems = append(problems, fmt.Sprintf("normalise: %v", err))
		}
	}
	if err := CheckSecrets(c); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("case %s: %s", c.Name, strings.Join(problems, "; "))
	}
	return nil
}

// Save writes c into its own directory under corpus, refusing a case
// that still carries a secret. Answers hold people's calendars, so what
// Save writes is readable by its owner only.
func Save(corpus string, c *Case) error {
	if err := c.Validate(); err != nil {
		return err
	}
	dir := filepath.Join(corpus, filepath.FromSlash(c.Name))
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err // an existing case is never overwritten
	}
	meta, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{caseFile: meta, requestFile: c.RequestBody, responseFile: c.ResponseBody} {
		if data == nil {
			continue
		}
		if err := writeFile(filepath.Join(dir, name), data); err != nil {
			return err
		}
	}
	c.Dir = dir
	return nil
}

// writeFile replaces a file whole: a crash leaves the old one or the new.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// LoadCase reads the case in dir; name is how reports call it.
func LoadCase(dir, name string) (*Case, error) {
	data, err := os.ReadFile(filepath.Join(dir, caseFile))
	if err != nil {
		return nil, err
	}
	c := &Case{Name: name, Dir: dir}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, caseFile), err)
	}
	for file, dst := range map[string]*[]byte{requestFile: &c.RequestBody, responseFile: &c.ResponseBody} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		*dst = b
	}
	if c.Compare == "" {
		c.Compare = CompareXML
	}
	if c.Request.Auth == "" {
		c.Request.Auth = AuthNone
	}
	return c, c.Validate()
}

// Load reads every case under the given paths (a case directory or a
// corpus of them), sorted by name; the first bad case stops it.
func Load(paths ...string) ([]*Case, error) {
	var out []*Case
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || d.Name() != caseFile {
				return nil
			}
			dir := filepath.Dir(path)
			name, _ := filepath.Rel(root, dir)
			if name == "." {
				name = filepath.Base(dir)
			}
			c, err := LoadCase(dir, filepath.ToSlash(name))
			if err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no cases (directories with %s) under %s", caseFile, strings.Join(paths, ", "))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

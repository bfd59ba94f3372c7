package managedelegation

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/internal/domainname"
)

// zone is a Resolver over a map, with a switch for temporary failure.
type zone struct {
	mu   sync.Mutex
	txt  map[string][]string
	fail bool
}

func (z *zone) TXT(_ context.Context, name string) ([]string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.fail {
		return nil, dnsproof.ErrTemporary
	}
	if v, ok := z.txt[name]; ok {
		return v, nil
	}
	return nil, dnsproof.ErrNXDomain
}

func (z *zone) publish(t *testing.T, c *certs.Certificate, domain string) {
	t.Helper()
	p, err := dnsproof.Proof(c.Key, domain)
	if err != nil {
		t.Fatal(err)
	}
	z.mu.Lock()
	z.txt[domain] = append(z.txt[domain], "v=spf1 -all", p)
	z.mu.Unlock()
}

func newCert(t *testing.T, name string) *certs.Certificate {
	t.Helper()
	c, err := certs.Generate(name, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantCode(t *testing.T, err error, code ErrorCode) {
	t.Helper()
	if !errors.Is(err, &Error{Code: code}) {
		t.Fatalf("err = %v, want DomainError %s (%d)", err, code, int(code))
	}
}

// The registration sequence Exchange runs, and every refusal on the way,
// against a Server over HTTP.
func TestRegistration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registrations.json")
	reg, err := OpenRegistry(path)
	if err != nil {
		t.Fatal(err)
	}
	z := &zone{txt: map[string][]string{"b.example": {"v=spf1 -all"}}}
	srv := httptest.NewServer(&Server{Registry: reg, Resolver: z})
	defer srv.Close()
	a, b := newCert(t, "A"), newCert(t, "B")
	ca := &Client{URL: srv.URL, Certificate: a}
	cb := &Client{URL: srv.URL, Certificate: b}
	const appURI = "FYDIBOHF25SPDLT.a.example"

	_, err = ca.CreateAppID(ctx, appURI)
	wantCode(t, err, ProofOfOwnershipNotValid) // nothing published yet
	z.publish(t, a, "a.example")
	id, err := ca.CreateAppID(ctx, appURI)
	if err != nil || len(id) != 16 {
		t.Fatalf("CreateAppId: %q %v", id, err)
	}
	if again, err := ca.CreateAppID(ctx, appURI); err != nil || again != id {
		t.Fatalf("CreateAppId again: %q %v, want %q", again, err, id)
	}
	if err := ca.ReserveDomain(ctx, id, appURI); err != nil {
		t.Fatal(err)
	}
	if info, err := ca.GetDomainInfo(ctx, id, appURI); err != nil || info.State != Active || info.AppID != id {
		t.Fatalf("GetDomainInfo: %+v %v", info, err)
	}
	if err := ca.AddURI(ctx, id, "a.example"); err != nil {
		t.Fatal(err)
	}
	// b.example publishes only B's proof: A may not add it.
	z.publish(t, b, "b.example")
	wantCode(t, ca.AddURI(ctx, id, "b.example"), ProofOfOwnershipNotValid)
	// B cannot act on A's application, nor take a.example with its key.
	wantCode(t, cb.AddURI(ctx, id, "b.example"), PartnerNotAuthorized)
	_, err = cb.CreateAppID(ctx, appURI)
	wantCode(t, err, ProofOfOwnershipNotValid)
	wantCode(t, cb.ReserveDomain(ctx, "0000000000000000", "b.example"), InvalidAppID)
	// B registers itself, but a.example stays A's.
	idB, err := cb.CreateAppID(ctx, "FYDIBOHF25SPDLT.b.example")
	if err != nil {
		t.Fatal(err)
	}
	// A name with no canonical form is refused before it is signed; the
	// gateway refuses it too.
	if err := cb.AddURI(ctx, idB, "not a domain"); !errors.Is(err, domainname.ErrInvalid) {
		t.Fatalf("AddURI(not a domain) = %v, want domainname.ErrInvalid", err)
	}
	wantCode(t, cb.RemoveURI(ctx, idB, "not a domain"), InvalidDomainName)
	wantCode(t, cb.RemoveURI(ctx, idB, "b.\u212Aexample"), InvalidDomainName)
	if err := cb.AddURI(ctx, idB, "b.example"); err != nil {
		t.Fatal(err)
	}
	// A DNS failure is the gateway's, not a refused proof.
	z.fail = true
	wantCode(t, ca.AddURI(ctx, id, "a.example"), InternalError)
	z.fail = false

	// Certificate rollover: the next certificate takes over.
	next := newCert(t, "A next")
	if err := ca.UpdateAppIDCertificate(ctx, id, next); err != nil {
		t.Fatal(err)
	}
	wantCode(t, ca.RemoveURI(ctx, id, "a.example"), PartnerNotAuthorized)
	cn := &Client{URL: srv.URL, Certificate: next}
	if err := cn.RemoveURI(ctx, id, "a.example"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, cn.RemoveURI(ctx, id, "a.example"), InvalidURI)

	// The registry survives a restart.
	again, err := OpenRegistry(path)
	if err != nil {
		t.Fatal(err)
	}
	apps := again.Apps()
	if len(apps) != 2 || apps[0].ID != id || len(apps[0].URIs) != 0 || apps[1].URIs[0] != "b.example" {
		t.Fatalf("reopened registry: %+v", apps)
	}
	if c, err := apps[0].Cert(); err != nil || !c.Equal(next.Cert) {
		t.Fatalf("A's certificate after the update: %v", err)
	}
}

// Requests that are not signed, signed stale, or not ManageDelegation2
// are refused before anything happens.
func TestRefusedRequests(t *testing.T) {
	reg, _ := OpenRegistry("")
	srv := httptest.NewServer(&Server{Registry: reg, Resolver: &zone{txt: map[string][]string{}}})
	defer srv.Close()
	a := newCert(t, "A")
	post := func(body, action string) string {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.Header.Set("SOAPAction", action)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("status %d for a refused request", resp.StatusCode)
		}
		return string(data)
	}
	unsigned := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetDomainInfo xmlns="` + NS +
		`"><appId>1</appId><domainName>a.example</domainName></GetDomainInfo></s:Body></s:Envelope>`
	if out := post(unsigned, ""); !strings.Contains(out, ">1006<") {
		t.Errorf("unsigned request: %s", out)
	}
	stale, err := request(srv.URL, OpGetDomainInfo, a, time.Now().Add(-time.Hour), nil, param{"appId", "1"}, param{"domainName", "a.example"})
	if err != nil {
		t.Fatal(err)
	}
	if out := post(string(stale), ""); !strings.Contains(out, ">1006<") || !strings.Contains(out, "not current") {
		t.Errorf("stale request: %s", out)
	}
	fresh, _ := request(srv.URL, OpGetDomainInfo, a, time.Now(), nil, param{"appId", "1"}, param{"domainName", "a.example"})
	if out := post(string(fresh), NS+"/AddUri"); !strings.Contains(out, "SOAPAction") {
		t.Errorf("SOAPAction naming another operation: %s", out)
	}
	doctype := `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]>` + unsigned
	if out := post(doctype, ""); !strings.Contains(out, "ErrorCode") {
		t.Errorf("DTD: %s", out)
	}
}

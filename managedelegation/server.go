package managedelegation

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/internal/wssec"
	"github.com/calfed/calfed/internal/xmltree"
)

// App is an application registered with a Server: an organisation's
// ApplicationUri, its federation certificate and its domains.
type App struct {
	ID          string                 `json:"id"`
	URI         string                 `json:"uri"`
	Certificate []byte                 `json:"certificate"` // DER
	URIs        []string               `json:"uris"`        // the domains added with AddUri
	Reserved    map[string]DomainState `json:"reserved,omitempty"`
	Properties  map[string]string      `json:"properties,omitempty"`
}

// Cert parses the application's certificate.
func (a *App) Cert() (*x509.Certificate, error) { return x509.ParseCertificate(a.Certificate) }

// Registry holds the registered applications, kept in a file when it has
// one (written whole on every change, mode 0600).
type Registry struct {
	mu   sync.Mutex
	path string
	apps []*App
}

// OpenRegistry reads the registry kept at path, empty when the file does
// not exist yet; an empty path keeps it in memory only.
func OpenRegistry(path string) (*Registry, error) {
	r := &Registry{path: path}
	if path == "" {
		return r, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &r.apps); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Apps returns a copy of every application.
func (r *Registry) Apps() []App {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]App, len(r.apps))
	for i, a := range r.apps {
		out[i] = *a
		out[i].URIs = slices.Clone(a.URIs)
	}
	return out
}

// update runs f on the applications under the lock and saves them when f
// succeeds.
func (r *Registry) update(f func() error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := f(); err != nil {
		return err
	}
	if r.path == "" {
		return nil
	}
	data, err := json.MarshalIndent(r.apps, "", "  ")
	if err != nil {
		return err
	}
	tmp := r.path + ".tmp"
	if err := os.MkdirAll(filepath.Dir(r.path), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, r.path)
}

// find returns the application with id; the lock must be held.
func (r *Registry) find(id string) *App {
	for _, a := range r.apps {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// holder returns the application holding domain as a URI or a
// reservation; the lock must be held.
func (r *Registry) holder(domain string) *App {
	for _, a := range r.apps {
		if slices.Contains(a.URIs, domain) || a.Reserved[domain] != "" {
			return a
		}
	}
	return nil
}

// Server answers ManageDelegation2 requests against a Registry. Every
// request must be signed (docs/protocol.md §4.5, §4.7); an application is acted
// on only with its own certificate, and a domain joins only when its DNS
// proof is the hash of the signature the request carries.
type Server struct {
	Registry *Registry
	Resolver dnsproof.Resolver
	Now      func() time.Time // default time.Now
	Logger   *slog.Logger     // nil discards
}

// request is what one call carries.
type call struct {
	op     string
	body   *etree.Element
	signer *x509.Certificate
	proof  *Proof
}

func fault(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ServeHTTP answers one operation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	v := soap.V11
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/soap+xml") {
		v = soap.V12
	}
	c, result, err := s.serve(r, now())
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = fault(InternalError, "%v", err)
		}
		log.Warn("registration refused", "op", c.op, "remote", r.RemoteAddr, "code", int(e.Code), "reason", e.Message)
		f := soap.Fault{Code: "Sender", Reason: e.Message, Detail: func(w *soap.Writer) {
			w.Elem("ErrorCode", strconv.Itoa(int(e.Code)), "xmlns", NS)
		}}
		soap.WriteResponse(w, v, http.StatusInternalServerError, f.Write(v, nil))
		return
	}
	log.Info("registration", "op", c.op, "remote", r.RemoteAddr)
	soap.WriteResponse(w, v, http.StatusOK, soap.Envelope(v, nil, func(w *soap.Writer) {
		w.Start(c.op+"Response", "xmlns", NS)
		if result != nil {
			result(w)
		}
		w.End(c.op + "Response")
	}))
}

// serve reads, authenticates and runs one call; the answer's content is
// written by result.
func (s *Server) serve(r *http.Request, now time.Time) (call, func(*soap.Writer), error) {
	var c call
	data, err := soap.ReadRequest(r, Limits)
	if err != nil {
		return c, nil, err
	}
	env, body, err := readEnvelope(data)
	if err != nil {
		return c, nil, err
	}
	c.op, c.body = body.Tag, body
	if body.NamespaceURI() != NS {
		return c, nil, fmt.Errorf("%w: %s is not a ManageDelegation2 operation", ErrMessage, body.Tag)
	}
	if a := strings.Trim(r.Header.Get("SOAPAction"), `"`); a != "" && a != NS+"/"+c.op {
		return c, nil, fmt.Errorf("%w: SOAPAction %q does not name %s", ErrMessage, a, c.op)
	}
	verified, err := wssec.Verify(env, now, wssec.Options{Embedded: true})
	if err != nil {
		return c, nil, fault(MemberNotAuthenticated, "%v", err)
	}
	c.signer = verified.Cert
	if h := xmltree.Find(env, NS, domainOwnershipProofLocal); h != nil {
		sig, err := xmltree.Base64(xmltree.Find(h, NS, "Signature"))
		if err != nil {
			return c, nil, fault(ProofOfOwnershipNotValid, "the proof's Signature is not base64")
		}
		if alg := text(h, "HashAlgorithm"); alg != "" && !strings.EqualFold(alg, hashAlgorithm) {
			return c, nil, fault(ProofOfOwnershipNotValid, "HashAlgorithm %q: only %s", alg, hashAlgorithm)
		}
		c.proof = &Proof{Domain: text(h, "Domain"), Signature: sig}
	}
	result, err := s.run(r.Context(), c)
	return c, result, err
}

func (s *Server) run(ctx context.Context, c call) (func(*soap.Writer), error) {
	reg := s.Registry
	if c.op == OpCreateAppID {
		uri, err := domainName(text(c.body, "uri"))
		if err != nil {
			return nil, err
		}
		if err := s.checkProof(ctx, c, uri); err != nil {
			return nil, err
		}
		var id string
		err = reg.update(func() error {
			for _, a := range reg.apps {
				if au, err := domainName(a.URI); err == nil && au == uri {
					if !bytes.Equal(a.Certificate, c.signer.Raw) {
						// The domain's owner proved it with another key:
						// the application follows the proof.
						a.Certificate = c.signer.Raw
					}
					id = a.ID
					return nil
				}
			}
			b := make([]byte, 8)
			rand.Read(b)
			id = strings.ToUpper(hex.EncodeToString(b))
			reg.apps = append(reg.apps, &App{ID: id, URI: uri, Certificate: c.signer.Raw})
			return nil
		})
		return func(w *soap.Writer) {
			w.Start("CreateAppIdResult")
			w.Elem("AppId", id)
			w.End("CreateAppIdResult")
		}, err
	}
	appID := text(c.body, "appId")
	var result func(*soap.Writer)
	// Proofs need DNS, outside the registry's lock.
	switch c.op {
	case OpAddURI:
		if err := s.checkProof(ctx, c, text(c.body, "uri")); err != nil {
			return nil, err
		}
	case OpReserveDomain:
		if p := text(c.body, "programId"); p != ProgramID {
			return nil, fault(InvalidProgramID, "programId %q: want %s", p, ProgramID)
		}
		if err := s.checkProof(ctx, c, text(c.body, "domainName")); err != nil {
			return nil, err
		}
	}
	err := reg.update(func() error {
		app := reg.find(appID)
		if app == nil {
			return fault(InvalidAppID, "no application %q", appID)
		}
		if !bytes.Equal(app.Certificate, c.signer.Raw) {
			return fault(PartnerNotAuthorized, "the request is not signed with application %s's certificate", appID)
		}
		switch c.op {
		case OpAddURI, OpRemoveURI:
			uri, err := domainName(text(c.body, "uri"))
			if err != nil {
				return err
			}
			if c.op == OpRemoveURI {
				i := slices.Index(app.URIs, uri)
				if i < 0 {
					return fault(InvalidURI, "%s is not a URI of application %s", uri, appID)
				}
				app.URIs = slices.Delete(app.URIs, i, i+1)
				return nil
			}
			if h := reg.holder(uri); h != nil && h != app {
				return fault(DomainUnavailable, "%s belongs to another application", uri)
			}
			if !slices.Contains(app.URIs, uri) {
				app.URIs = append(app.URIs, uri)
			}
		case OpReserveDomain, OpReleaseDomain, OpGetDomainInfo:
			d, err := domainName(text(c.body, "domainName"))
			if err != nil {
				return err
			}
			switch c.op {
			case OpReserveDomain:
				if h := reg.holder(d); h != nil && h != app {
					return fault(DomainUnavailable, "%s belongs to another application", d)
				}
				if app.Reserved == nil {
					app.Reserved = map[string]DomainState{}
				}
				app.Reserved[d] = Active
			case OpReleaseDomain:
				if app.Reserved[d] == "" {
					return fault(DomainNotReserved, "%s is not reserved by application %s", d, appID)
				}
				delete(app.Reserved, d)
			case OpGetDomainInfo:
				state := app.Reserved[d]
				if state == "" && slices.Contains(app.URIs, d) {
					state = Active
				}
				if state == "" {
					return fault(DomainNotReserved, "%s is not reserved by application %s", d, appID)
				}
				result = func(w *soap.Writer) {
					w.Start("GetDomainInfoResult")
					w.Elem("DomainName", d)
					w.Elem("AppId", app.ID)
					w.Elem("DomainState", string(state))
					w.End("GetDomainInfoResult")
				}
			}
		case OpUpdateAppIDCertificate:
			der, err := xmltree.Base64(xmltree.Find(c.body, NS, "newCertificate"))
			if err != nil {
				return fault(PartnerNotAuthorized, "newCertificate is not base64")
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return fault(PartnerNotAuthorized, "newCertificate: %v", err)
			}
			if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
				return fault(PartnerNotAuthorized, "newCertificate: not an RSA key")
			}
			app.Certificate = der
		case OpUpdateAppIDProperties:
			app.Properties = map[string]string{}
			for _, p := range xmltree.FindAll(c.body, NS, "Property") {
				app.Properties[text(p, "Name")] = text(p, "Value")
			}
		default:
			return fault(ErrorCode(10001), "%s is not implemented", c.op)
		}
		return nil
	})
	return result, err
}

// checkProof requires the request's proof for name: the header names it
// (or its ApplicationUri form), its signature verifies with the signing
// certificate over the proof domain, and that domain publishes the hash of
// the signature in DNS (docs/protocol.md §4.5, §4.7, §5).
func (s *Server) checkProof(ctx context.Context, c call, name string) error {
	d, err := domainName(name)
	if err != nil {
		return err
	}
	if c.proof == nil {
		return fault(ProofOfOwnershipNotValid, "%s needs a DomainOwnershipProofHeader for %s", c.op, name)
	}
	if ProofDomain(c.proof.Domain) != ProofDomain(d) {
		return fault(ProofOfOwnershipNotValid, "the proof is for %q, the request names %q", c.proof.Domain, name)
	}
	pub, ok := c.signer.PublicKey.(*rsa.PublicKey)
	if !ok || dnsproof.VerifySignature(pub, ProofDomain(d), c.proof.Signature) != nil {
		return fault(ProofOfOwnershipNotValid, "the proof's signature over %s does not verify with the signing certificate", ProofDomain(d))
	}
	res := dnsproof.Check(ctx, s.Resolver, ProofDomain(d), []dnsproof.Expected{{Slot: "request", Proof: dnsproof.ProofOfSignature(c.proof.Signature)}})
	switch res.Status {
	case dnsproof.Pass:
		return nil
	case dnsproof.TempError:
		return fault(InternalError, "the proof of %s could not be looked up now: %v", ProofDomain(d), res.Err)
	}
	return fault(ProofOfOwnershipNotValid, "%s: %s: %v", ProofDomain(d), res.Status, res.Err)
}

// domainName reads a domain or ApplicationUri as the registry keeps it:
// its canonical form (internal/domainname), of two labels at least.
func domainName(s string) (string, error) {
	d, err := domainname.Canonical(strings.TrimSpace(s))
	if err != nil {
		return "", fault(InvalidDomainName, "%v", err)
	}
	if !strings.Contains(d, ".") {
		return "", fault(InvalidDomainName, "%q is not a domain name: it is a single label", s)
	}
	return d, nil
}

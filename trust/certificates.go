package trust

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/delegation"
	"github.com/calfed/calfed/federation"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/wsfed"
)

// Certificates returns our federation certificates in their slots.
func (s *Service) Certificates(ctx context.Context) (*certs.Ring, error) {
	return certs.Load(ctx, s.keys)
}

// PutCertificate stores c in slot — next or current; empty: current when
// that is empty, else next — and records the current certificate in the
// trust. It returns the slot used.
func (s *Service) PutCertificate(ctx context.Context, actor, action string, c *certs.Certificate, slot certs.Slot) (certs.Slot, error) {
	ring, err := certs.Load(ctx, s.keys)
	if err != nil {
		return slot, err
	}
	switch slot {
	case "":
		if cur := ring.Get(certs.Current); cur != nil {
			return slot, fmt.Errorf("%w: there is a current federation certificate (%s) already; to stage the next one for a rollover give -slot next, and -slot current only to replace the current one at once", ErrSlotTaken, cur.Thumbprint())
		}
		slot = certs.Current
	case certs.Next, certs.Current:
	default:
		return slot, fmt.Errorf("%w: slot %q: want next or current (previous is filled by rollover)", store.ErrInvalid, slot)
	}
	before := ring.Get(slot)
	if err := ring.Put(ctx, s.keys, slot, c); err != nil {
		return slot, err
	}
	return slot, errors.Join(s.auditSlot(ctx, actor, action, slot, before, c), s.recordCurrent(ctx, actor, ring))
}

// ErrSlotTaken refuses a certificate put into the current slot without
// naming it while there is one: staging a rollover's next certificate is
// asked for by name.
var ErrSlotTaken = fmt.Errorf("%w: slot taken", store.ErrInvalid)

// certRecord is a federation certificate as the audit log records it.
type certRecord struct {
	Slot       string    `json:"slot"`
	Thumbprint string    `json:"thumbprint"`
	Subject    string    `json:"subject"`
	NotAfter   time.Time `json:"not_after"`
}

func recordOf(slot certs.Slot, c *certs.Certificate) any {
	if c == nil {
		return nil
	}
	return certRecord{Slot: string(slot), Thumbprint: c.Thumbprint(), Subject: c.Cert.Subject.CommonName, NotAfter: c.Cert.NotAfter}
}

// auditSlot records that the certificate in slot changed from before to
// after.
func (s *Service) auditSlot(ctx context.Context, actor, action string, slot certs.Slot, before, after *certs.Certificate) error {
	return s.store.RecordChange(ctx, actor, action, "certificate/"+string(slot), recordOf(slot, before), recordOf(slot, after))
}

// ringRecord is every slot of the ring, for the audit log.
func ringRecord(r *certs.Ring) map[string]any {
	out := map[string]any{}
	for _, sl := range certs.Slots {
		if c := r.Get(sl); c != nil {
			out[string(sl)] = recordOf(sl, c)
		}
	}
	return out
}

// Rollover makes next current and current previous, as
// Set-FederationTrust -PublishFederationCertificate: when we are
// registered with a gateway, it takes the next certificate first (if it
// refuses, nothing changes). The change is recorded in the trust so every
// server reloads its keys. It returns the new current certificate.
func (s *Service) Rollover(ctx context.Context, actor string) (*certs.Certificate, error) {
	ring, err := certs.Load(ctx, s.keys)
	if err != nil {
		return nil, err
	}
	published, err := s.publishNext(ctx, actor, ring)
	if err != nil {
		return nil, err
	}
	before := ringRecord(ring)
	if err := ring.Rollover(ctx, s.keys); err != nil {
		return nil, err
	}
	audited := s.store.RecordChange(ctx, actor, "certificate.rollover", "certificate", before, ringRecord(ring))
	if err := errors.Join(audited, s.recordCurrent(ctx, actor, ring), published()); err != nil {
		return nil, err
	}
	return ring.Get(certs.Current), nil
}

// recordCurrent writes the current certificate's thumbprint into the
// trust, so the change is audited and every server reloads its keys.
func (s *Service) recordCurrent(ctx context.Context, actor string, ring *certs.Ring) error {
	t, err := s.store.Trust(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil // nothing to record into yet; calfed trust set creates it
	}
	if err != nil {
		return err
	}
	thumb := ""
	if c := ring.Get(certs.Current); c != nil {
		thumb = c.Thumbprint()
	}
	if t.CertificateThumbprint == thumb {
		return nil
	}
	t.CertificateThumbprint = thumb
	_, err = s.store.SetTrustAction(ctx, actor, "trust.set", t)
	return err
}

// Client asks for delegation tokens as our organisation: our current
// certificate and the token issuer of our trust.
func (s *Service) Client(ctx context.Context) (*delegation.Client, error) {
	t, err := s.store.Trust(ctx)
	if err != nil {
		return nil, err
	}
	ring, err := certs.Load(ctx, s.keys)
	if err != nil {
		return nil, err
	}
	cur := ring.Get(certs.Current)
	if cur == nil {
		return nil, mark(errors.New("no current federation certificate (calfed trust certificate new)"), ErrNoCertificate)
	}
	return &delegation.Client{HTTP: s.http, Certificate: cur, ApplicationURI: t.ApplicationURI, IssuerURI: t.TokenIssuerURI, IssuerEndpoint: t.TokenIssuerEndpoint}, nil
}

// Validation gathers what token validation checks against t: our
// certificates (read again on every call, so a rollover recorded in the
// store takes effect everywhere), the issuer's certificates and our
// ApplicationUri. It is nil, without an error, while t is nil, records no
// issuer certificates, or we hold no current certificate.
//
// While none of these changes it returns the same *federation.Trust, so
// validators keep their caches; any change gives a new one, and
// validators empty their caches of tokens validated under the old
// (federation.Trust). A trust that was nil in between is new too.
func (s *Service) Validation(ctx context.Context, t *orgrel.Trust) (*federation.Trust, error) {
	fed, err := s.validation(ctx, t)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		return nil, err
	case fed == nil:
		s.last = nil
		return nil, nil
	case s.last != nil && s.last.from == fed.from:
		return s.last.Trust, nil
	}
	s.last = fed
	return fed.Trust, nil
}

// builtTrust is a validation trust and what it was built from: our
// ApplicationUri, the issuer's certificates as recorded, and the
// thumbprints of our current and previous certificates.
type builtTrust struct {
	*federation.Trust
	from string
}

func (s *Service) validation(ctx context.Context, t *orgrel.Trust) (*builtTrust, error) {
	if t == nil || t.TokenIssuerCertificates == "" {
		return nil, nil
	}
	issuers, err := wsfed.DecodeCertificates(t.TokenIssuerCertificates)
	if err != nil {
		return nil, fmt.Errorf("the token issuer's certificates: %w", err)
	}
	ring, err := certs.Load(ctx, s.keys)
	if err != nil {
		return nil, err
	}
	cur := ring.Get(certs.Current)
	if cur == nil {
		s.log.Warn("no current federation certificate: delegation tokens cannot be decrypted (calfed trust certificate new)")
		return nil, nil
	}
	from := t.ApplicationURI + "\n" + t.TokenIssuerCertificates + "\n" + cur.Thumbprint()
	if prev := ring.Get(certs.Previous); prev != nil {
		from += "\n" + prev.Thumbprint()
	}
	return &builtTrust{&federation.Trust{Keys: ring, Issuers: issuers, ApplicationURI: t.ApplicationURI}, from}, nil
}

// Step is one step of Test.
type Step struct {
	Name   string
	Err    error  // nil: the step passed
	Detail string // what it found, when it passed
}

// Test is Test-FederationTrust: it gets a token for user (default
// test@<account namespace>) from the token issuer and validates it here,
// step by step, stopping at the first step the next ones depend on.
func (s *Service) Test(ctx context.Context, user string, skew time.Duration) []Step {
	var steps []Step
	step := func(name string, err error, detail string) bool {
		steps = append(steps, Step{name, err, detail})
		return err == nil
	}
	t, err := s.store.Trust(ctx)
	if !step("federation trust", err, fmt.Sprintf("%s, ApplicationUri %s", t.AccountNamespace, t.ApplicationURI)) {
		return steps
	}
	issuers, err := wsfed.DecodeCertificates(t.TokenIssuerCertificates)
	if err == nil && len(issuers) == 0 {
		err = fmt.Errorf("none recorded (calfed trust refresh -metadata …)")
	}
	if !step("token issuer certificates", err, fmt.Sprintf("%d, issuer %s", len(issuers), t.TokenIssuerURI)) {
		return steps
	}
	now := s.now()
	for _, c := range issuers {
		if now.After(c.NotAfter) {
			step("issuer certificate validity", fmt.Errorf("%s expired on %s", c.Subject.CommonName, c.NotAfter.Format("2006-01-02")), "")
		}
	}
	ring, err := certs.Load(ctx, s.keys)
	var cur *certs.Certificate
	if err == nil {
		if cur = ring.Get(certs.Current); cur == nil {
			err = fmt.Errorf("none (calfed trust certificate new)")
		}
	}
	detail := ""
	if cur != nil {
		detail = cur.Thumbprint() + ", valid until " + cur.Cert.NotAfter.Format("2006-01-02")
	}
	if !step("our federation certificate", err, detail) {
		return steps
	}
	if user == "" {
		user = "test@" + t.AccountNamespace
	}
	client := &delegation.Client{HTTP: s.http, Certificate: cur, ApplicationURI: t.ApplicationURI, IssuerURI: t.TokenIssuerURI, IssuerEndpoint: t.TokenIssuerEndpoint}
	tok, err := client.Token(ctx, user, t.ApplicationURI, federation.OfferFreeBusy)
	if !step("token request", err, "from "+t.TokenIssuerEndpoint+" for "+user) {
		return steps
	}
	v := &federation.Validator{Trust: func() *federation.Trust {
		return &federation.Trust{Keys: ring, Issuers: issuers, ApplicationURI: t.ApplicationURI}
	}, Skew: skew}
	c, err := v.Validate(tok, federation.OfferFreeBusy, s.now())
	step("token validation", err, fmt.Sprintf("%s, expires %s", c.Email, c.Expires.Format(time.RFC3339)))
	return steps
}

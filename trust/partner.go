package trust

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/shellquote"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/sts"
)

// PartnerProof is what is known of a partner domain's proof.
type PartnerProof struct {
	Domain  string     `json:"domain"`
	Status  string     `json:"status"` // a dnsproof.Status, or Unverified
	Detail  string     `json:"detail,omitempty"`
	Checked *time.Time `json:"checked,omitempty"` // nil: never checked
}

// PartnerProofColumns are a partner proof as calfed orgrel verify shows
// it.
var PartnerProofColumns = []orgrel.Field[PartnerProof]{
	{Label: "DOMAIN", Get: func(p PartnerProof) string { return p.Domain }},
	{Label: "STATUS", Get: func(p PartnerProof) string { return p.Status }},
	{Label: "DETAIL", Get: func(p PartnerProof) string { return p.Detail }},
}

// String says it for people: the status, when it was checked, and why a
// proof did not pass.
func (p PartnerProof) String() string {
	line := p.Status
	if p.Checked != nil {
		line += " (checked " + p.Checked.UTC().Format(time.RFC3339) + ")"
	}
	if p.Detail != "" && p.Detail != "-" && p.Status != "pass" {
		line += ": " + p.Detail
	}
	return line
}

// Unverified is the status of a partner domain whose published proof
// cannot be tied to its certificate (no signature was given) or that was
// never checked.
const Unverified = "unverified"

// PartnerProofs pairs each of rel's domains with its last recorded check
// (VerifyPartner); a domain never checked is Unverified.
func PartnerProofs(rel orgrel.Relationship, checks []orgrel.DomainCheck) []PartnerProof {
	var out []PartnerProof
	for _, d := range rel.Domains {
		p := PartnerProof{Domain: d, Status: Unverified, Detail: "calfed orgrel verify " + shellquote.Word(rel.Name) + " checks it"}
		for _, c := range checks {
			if c.Kind == orgrel.DomainPartner && c.Relationship == rel.Name && c.Domain == d { // both canonical, as the store keeps them
				checked := c.Checked
				p = PartnerProof{Domain: d, Status: c.Status, Detail: c.Detail, Checked: &checked}
			}
		}
		out = append(out, p)
	}
	return out
}

// VerifyPartner checks each of rel's domains against the partner's
// certificate key, with the proof signatures the partner gave (by
// domain), and records the outcomes.
func (s *Service) VerifyPartner(ctx context.Context, rel orgrel.Relationship, pub *rsa.PublicKey, sigs map[string][]byte) []PartnerProof {
	var out []PartnerProof
	for _, d := range rel.Domains {
		status, detail := s.partnerProof(ctx, pub, d, sigs[d])
		now := s.now()
		s.store.RecordDomainCheck(ctx, orgrel.DomainCheck{Domain: d, Kind: orgrel.DomainPartner, Relationship: rel.Name, Status: status, Detail: detail, Checked: now})
		out = append(out, PartnerProof{d, status, detail, &now})
	}
	return out
}

// partnerProof checks a partner domain: its TXT records must hold the
// proof of a signature that verifies with the partner's certificate.
// Without the signature the published proof (a hash of it) cannot be tied
// to the certificate, and the domain stays unverified.
func (s *Service) partnerProof(ctx context.Context, pub *rsa.PublicKey, domain string, sig []byte) (string, string) {
	if sig == nil {
		res := dnsproof.Check(ctx, s.resolver, domain, nil)
		switch res.Status {
		case dnsproof.Fail: // proof-shaped records exist; none we could tie to the certificate
			return Unverified, fmt.Sprintf("%d proof records found; give -signature to check them against the certificate", res.Found)
		default:
			return string(res.Status), errText(res.Err)
		}
	}
	if err := dnsproof.VerifySignature(pub, domain, sig); err != nil {
		return string(dnsproof.Fail), err.Error()
	}
	res := dnsproof.Check(ctx, s.resolver, domain, []dnsproof.Expected{{Slot: "partner", Proof: dnsproof.ProofOfSignature(sig)}})
	return string(res.Status), errText(res.Err)
}

func errText(err error) string {
	if err == nil {
		return "-"
	}
	return err.Error()
}

// RegisteredKey is the key of the organisation a token issuer registered
// (orgs, read from source) for the relationship's domains: exactly one
// must claim any of them, and it must be the relationship's
// TargetApplicationUri where that is set.
func RegisteredKey(orgs []sts.Organization, source string, rel orgrel.Relationship) (*rsa.PublicKey, error) {
	var found []sts.Organization
	for _, o := range orgs {
		for _, d := range o.Domains {
			if c, err := domainname.Canonical(strings.TrimSpace(d)); err == nil && slices.Contains(rel.Domains, c) {
				found = append(found, o)
				break
			}
		}
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("%w: %s registers no organisation with the domains of %s (%s)", store.ErrInvalid, source, rel.Name, strings.Join(rel.Domains, ", "))
	case len(found) > 1:
		return nil, fmt.Errorf("%w: %s registers several organisations with the domains of %s", store.ErrInvalid, source, rel.Name)
	case rel.TargetApplicationURI != "" && !domainname.EqualFoldASCII(found[0].ApplicationURI, rel.TargetApplicationURI):
		return nil, fmt.Errorf("%w: the registered organisation %s has ApplicationUri %s, the relationship expects %s", store.ErrInvalid, found[0].Name, found[0].ApplicationURI, rel.TargetApplicationURI)
	}
	pub, ok := found[0].Certificate.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the registered certificate's key is not RSA", store.ErrInvalid)
	}
	return pub, nil
}

// RegisteredKeyFile is RegisteredKey for the organisations a development
// token issuer's configuration file registers.
func RegisteredKeyFile(stsConfig string, rel orgrel.Relationship) (*rsa.PublicKey, error) {
	_, orgs, err := sts.LoadConfig(stsConfig)
	if err != nil {
		return nil, err
	}
	return RegisteredKey(orgs, stsConfig, rel)
}

// PartnerKeyFile is PartnerKey for a PEM file; a file it cannot use is
// invalid input (store.ErrInvalid).
func PartnerKeyFile(path string) (pub *rsa.PublicKey, privateKey bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	if pub, privateKey, err = PartnerKey(data); err != nil {
		err = fmt.Errorf("%w: %s: %v", store.ErrInvalid, path, err)
	}
	return pub, privateKey, err
}

// PartnerKey reads the public key of the first certificate in PEM data.
// privateKey reports that data also holds a private key: the partner
// should never have sent it, and should replace the certificate.
func PartnerKey(data []byte) (pub *rsa.PublicKey, privateKey bool, err error) {
	var cert *x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		switch {
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			privateKey = true
		case b.Type == "CERTIFICATE" && cert == nil:
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, privateKey, err
			}
			cert = c
		}
	}
	if cert == nil {
		return nil, privateKey, errors.New("no PEM certificate in it")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, privateKey, errors.New("the certificate's key is not RSA, as a federation certificate's must be")
	}
	return pub, privateKey, nil
}

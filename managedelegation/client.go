package managedelegation

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/beevik/etree"
	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/internal/xmltree"
)

// Client calls the registration service as one organisation: every
// request is signed with Certificate, the organisation's current
// federation certificate.
type Client struct {
	URL         string // default DefaultURL
	Certificate *certs.Certificate
	HTTP        *http.Client     // default: 30-second timeout
	Now         func() time.Time // default time.Now
}

func (c *Client) url() string {
	if c.URL == "" {
		return DefaultURL
	}
	return c.URL
}

// call sends op and returns the answer's Body element, or the service's
// fault as an *Error.
func (c *Client) call(ctx context.Context, op string, proof *Proof, params ...param) (*etree.Element, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	req, err := request(c.url(), op, c.Certificate, now(), proof, params...)
	if err != nil {
		return nil, err
	}
	data, err := soap.PostAction(ctx, c.HTTP, c.url(), NS+"/"+op, req, Limits)
	var status *soap.StatusError
	if errors.As(err, &status) && len(status.Body) > 0 {
		data, err = status.Body, nil
	}
	if err != nil {
		return nil, fmt.Errorf("managedelegation %s: %w", op, err)
	}
	_, body, err := readEnvelope(data)
	if err != nil {
		return nil, fmt.Errorf("managedelegation %s: %w", op, err)
	}
	if body.Tag == "Fault" {
		return nil, readFault(body)
	}
	if status != nil {
		return nil, fmt.Errorf("managedelegation %s: %w", op, status)
	}
	if body.Tag != op+"Response" || body.NamespaceURI() != NS {
		return nil, fmt.Errorf("managedelegation %s: %w: the answer is %s", op, ErrMessage, body.Tag)
	}
	return body, nil
}

// CreateAppID creates the organisation's application identifier for uri
// (its ApplicationUri), proving the domain uri was made from, and returns
// the identifier.
func (c *Client) CreateAppID(ctx context.Context, uri string) (string, error) {
	proof, err := NewProof(c.Certificate.Key, uri)
	if err != nil {
		return "", err
	}
	b, err := c.call(ctx, OpCreateAppID, &proof, param{"uri", uri}, param{"properties", ""})
	if err != nil {
		return "", err
	}
	id := text(xmltree.Find(b, NS, "CreateAppIdResult"), "AppId")
	if id == "" {
		return "", fmt.Errorf("managedelegation CreateAppId: %w: no AppId", ErrMessage)
	}
	return id, nil
}

// ReserveDomain reserves domain for the application in ProgramID, with its
// proof.
func (c *Client) ReserveDomain(ctx context.Context, appID, domain string) error {
	proof, err := NewProof(c.Certificate.Key, domain)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, OpReserveDomain, &proof, param{"appId", appID}, param{"domainName", domain}, param{"programId", ProgramID})
	return err
}

// ReleaseDomain releases a reserved domain.
func (c *Client) ReleaseDomain(ctx context.Context, appID, domain string) error {
	_, err := c.call(ctx, OpReleaseDomain, nil, param{"appId", appID}, param{"domainName", domain})
	return err
}

// GetDomainInfo reports a reserved domain's state.
func (c *Client) GetDomainInfo(ctx context.Context, appID, domain string) (DomainInfo, error) {
	b, err := c.call(ctx, OpGetDomainInfo, nil, param{"appId", appID}, param{"domainName", domain})
	if err != nil {
		return DomainInfo{}, err
	}
	r := xmltree.Find(b, NS, "GetDomainInfoResult")
	return DomainInfo{DomainName: text(r, "DomainName"), AppID: text(r, "AppId"), State: DomainState(text(r, "DomainState"))}, nil
}

// AddURI federates a domain under the application, with its proof.
func (c *Client) AddURI(ctx context.Context, appID, uri string) error {
	proof, err := NewProof(c.Certificate.Key, uri)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, OpAddURI, &proof, param{"appId", appID}, param{"uri", uri})
	return err
}

// RemoveURI takes a domain out of the application.
func (c *Client) RemoveURI(ctx context.Context, appID, uri string) error {
	_, err := c.call(ctx, OpRemoveURI, nil, param{"appId", appID}, param{"uri", uri})
	return err
}

// UpdateAppIDCertificate gives the application a new certificate (the
// request is signed with the one it has now).
func (c *Client) UpdateAppIDCertificate(ctx context.Context, appID string, next *certs.Certificate) error {
	_, err := c.call(ctx, OpUpdateAppIDCertificate, nil, param{"appId", appID}, param{"newCertificate", base64.StdEncoding.EncodeToString(next.Cert.Raw)})
	return err
}

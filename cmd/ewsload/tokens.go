package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/sts"
)

// tokenSource mints a delegation token of its own for every request, as
// a partner's Exchange flooding a /WSSecurity endpoint with distinct valid
// tokens would: each has a fresh AssertionID and is encrypted anew, so
// the server validates every one in full and its caches see each once.
// The tokens are signed with the current signing certificate of the
// development token issuer (calfed sts serve) the server trusts.
type tokenSource struct {
	issue        sts.Issue
	autodiscover bool   // the request is Autodiscover GetUserSettings, else GetUserAvailability
	request      string // the operation's body element
}

// newTokenSource reads the issuer's configuration at stsConfig and its
// signing certificate, and takes the target (its ApplicationUri and
// federation certificate) from the organisation org of that file; empty
// org takes the first. offer is "autodiscover", "freebusy" or empty:
// Autodiscover for an Autodiscover URL, free/busy otherwise.
func newTokenSource(ctx context.Context, o options, stsConfig, org, user, offer string) (*tokenSource, error) {
	cfg, orgs, err := sts.LoadConfig(stsConfig)
	if err != nil {
		return nil, err
	}
	var target *sts.Organization
	for i := range orgs {
		if org == "" || strings.EqualFold(orgs[i].Name, org) {
			target = &orgs[i]
			break
		}
	}
	if target == nil {
		return nil, fmt.Errorf("-token-org: %s lists no organisation %q", stsConfig, org)
	}
	ring, err := certs.Load(ctx, cfg.Keys())
	if err != nil {
		return nil, err
	}
	signer := ring.Get(certs.Current)
	if signer == nil {
		return nil, fmt.Errorf("-token-sts: %s has no signing certificate yet (start calfed sts serve -config %s once)", cfg.DataDir, stsConfig)
	}
	u, err := url.Parse(o.url)
	if err != nil {
		return nil, err
	}
	ad := strings.Contains(strings.ToLower(u.Path), "/autodiscover/")
	s := &tokenSource{autodiscover: ad, issue: sts.Issue{Issuer: cfg.IssuerURI, Signer: signer, Audience: target.ApplicationURI,
		Email: user, Target: target.Certificate, DataAlg: cfg.DataEncryption}}
	switch offer {
	case "":
		s.issue.Offer = fedtoken.OfferFreeBusy
		if ad {
			s.issue.Offer = fedtoken.OfferAutodiscover
		}
	case "autodiscover":
		s.issue.Offer = fedtoken.OfferAutodiscover
	case "freebusy":
		s.issue.Offer = fedtoken.OfferFreeBusy
	default:
		return nil, fmt.Errorf("-token-offer: %q (want autodiscover or freebusy)", offer)
	}
	if ad {
		s.request = `<a:GetUserSettingsRequestMessage xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover"><a:Request><a:Users><a:User><a:Mailbox>` +
			o.mailboxes[0] + `</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>ExternalEwsUrl</a:Setting><a:Setting>ExternalEwsVersion</a:Setting></a:RequestedSettings><a:RequestedVersion>Exchange2010</a:RequestedVersion></a:Request></a:GetUserSettingsRequestMessage>`
	} else {
		body := string(requestBody(o))
		i, j := strings.Index(body, "<s:Body>"), strings.LastIndex(body, "</s:Body>")
		s.request = body[i+len("<s:Body>") : j]
	}
	return s, nil
}

// next is a request body carrying a token minted for it.
func (s *tokenSource) next() ([]byte, error) {
	is := s.issue
	is.NotBefore = time.Now()
	tok, err := is.Token()
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.SetRoot(tok)
	xml, err := doc.WriteToString()
	if err != nil {
		return nil, err
	}
	if xml == "" {
		return nil, errors.New("the minted token is empty")
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Header>`)
	if !s.autodiscover {
		b.WriteString(`<t:RequestServerVersion Version="Exchange2013_SP1"/>`)
	}
	b.WriteString(`<o:Security xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" s:mustUnderstand="1">`)
	b.WriteString(xml)
	b.WriteString(`</o:Security></s:Header><s:Body>`)
	b.WriteString(s.request)
	b.WriteString(`</s:Body></s:Envelope>`)
	return []byte(b.String()), nil
}

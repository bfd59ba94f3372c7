package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/calfed/calfed/internal/outbound"
	"github.com/calfed/calfed/orgrel"
)

// Client is API over a remote calfed's admin listener.
type Client struct {
	base  string
	token string
	actor string
	http  *http.Client
}

// NewClient talks to the admin API at base (http://127.0.0.1:8081) as actor.
func NewClient(base, token, actor string) *Client {
	return &Client{base: strings.TrimRight(base, "/"), token: token, actor: actor, http: outbound.Default().HTTP(30 * time.Second)}
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set(ActorHeader, c.actor)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e apiError
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			return fmt.Errorf("admin API: HTTP %d", resp.StatusCode)
		}
		for _, ec := range errorCodes {
			if ec.code == e.Code {
				return &remoteError{msg: e.Error, kind: ec.err}
			}
		}
		return fmt.Errorf("admin API: %s", e.Error)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

func esc(s string) string { return url.PathEscape(s) }

func (c *Client) Relationships(ctx context.Context) ([]orgrel.Relationship, error) {
	var v []orgrel.Relationship
	return v, c.do(ctx, "GET", "/v1/orgrels", nil, &v)
}

func (c *Client) Relationship(ctx context.Context, name string) (orgrel.Relationship, error) {
	var v orgrel.Relationship
	return v, c.do(ctx, "GET", "/v1/orgrels/"+esc(name), nil, &v)
}

func (c *Client) NewRelationship(ctx context.Context, actor string, r orgrel.Relationship) (orgrel.Relationship, error) {
	var v orgrel.Relationship
	return v, c.do(ctx, "POST", "/v1/orgrels", r, &v)
}

func (c *Client) SetRelationship(ctx context.Context, actor, action string, r orgrel.Relationship) (orgrel.Relationship, error) {
	var v orgrel.Relationship
	return v, c.do(ctx, "PUT", "/v1/orgrels/"+esc(r.Name)+"?action="+url.QueryEscape(action), r, &v)
}

func (c *Client) RemoveRelationship(ctx context.Context, actor, name string, version int64) error {
	return c.do(ctx, "DELETE", "/v1/orgrels/"+esc(name)+"?version="+strconv.FormatInt(version, 10), nil, nil)
}

func (c *Client) Apply(ctx context.Context, actor string, want []orgrel.Relationship, opt ApplyOptions) (Plan, error) {
	var v Plan
	q := fmt.Sprintf("?dry_run=%t&prune=%t", opt.DryRun, opt.Prune)
	if want == nil {
		want = []orgrel.Relationship{}
	}
	return v, c.do(ctx, "POST", "/v1/apply/orgrels"+q, want, &v)
}

func (c *Client) Mailbox(ctx context.Context, address string) (MailboxSharing, error) {
	var v MailboxSharing
	return v, c.do(ctx, "GET", "/v1/mailboxes/"+esc(address)+"/sharing", nil, &v)
}

func (c *Client) ShareMailbox(ctx context.Context, actor, address string, level orgrel.Level, version int64) (MailboxSharing, error) {
	var v MailboxSharing
	return v, c.do(ctx, "PUT", "/v1/mailboxes/"+esc(address)+"/sharing", sharingChange{level, version}, &v)
}

func (c *Client) Accounts(ctx context.Context) ([]orgrel.ServiceAccount, error) {
	var v []orgrel.ServiceAccount
	return v, c.do(ctx, "GET", "/v1/accounts", nil, &v)
}

func (c *Client) NewAccount(ctx context.Context, actor, name, relationship string) (orgrel.ServiceAccount, string, error) {
	var v accountWithSecret
	err := c.do(ctx, "POST", "/v1/accounts", newAccount{name, relationship}, &v)
	return v.Account, v.Secret, err
}

func (c *Client) RotateAccount(ctx context.Context, actor, name string, overlap time.Duration, version int64) (orgrel.ServiceAccount, string, error) {
	var v accountWithSecret
	err := c.do(ctx, "POST", "/v1/accounts/"+esc(name)+"/rotate", rotateBody{Version: version, Overlap: overlap.String()}, &v)
	return v.Account, v.Secret, err
}

// outboundBody is what PUT /v1/orgrels/{name}/outbound takes.
type outboundBody struct {
	Account string `json:"account"`
	Secret  string `json:"secret"`
}

func (c *Client) SetOutboundCredential(ctx context.Context, actor, relationship, account, secret string) error {
	return c.do(ctx, "PUT", "/v1/orgrels/"+esc(relationship)+"/outbound", outboundBody{account, secret}, nil)
}

func (c *Client) RevokeAccount(ctx context.Context, actor, name string, version int64) (orgrel.ServiceAccount, error) {
	var v orgrel.ServiceAccount
	return v, c.do(ctx, "POST", "/v1/accounts/"+esc(name)+"/revoke", versionBody{version}, &v)
}

func (c *Client) Audit(ctx context.Context, since time.Time, limit int) ([]orgrel.AuditEntry, error) {
	var v []orgrel.AuditEntry
	q := "?since=" + url.QueryEscape(since.UTC().Format(time.RFC3339Nano))
	if limit > 0 {
		q += "&limit=" + strconv.Itoa(limit)
	}
	return v, c.do(ctx, "GET", "/v1/audit"+q, nil, &v)
}

func (c *Client) AccessLog(ctx context.Context, q orgrel.AccessQuery) ([]orgrel.AccessEntry, error) {
	var v []orgrel.AccessEntry
	p := url.Values{}
	if q.Partner != "" {
		p.Set("partner", q.Partner)
	}
	if q.Mailbox != "" {
		p.Set("mailbox", q.Mailbox)
	}
	if !q.Since.IsZero() {
		p.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		p.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		p.Set("limit", strconv.Itoa(q.Limit))
	}
	return v, c.do(ctx, "GET", "/v1/access?"+p.Encode(), nil, &v)
}

func (c *Client) PartnerActivity(ctx context.Context, since time.Time) ([]orgrel.PartnerActivity, error) {
	var v []orgrel.PartnerActivity
	return v, c.do(ctx, "GET", "/v1/access/partners?since="+url.QueryEscape(since.UTC().Format(time.RFC3339Nano)), nil, &v)
}

func (c *Client) Domains(ctx context.Context) ([]string, error) {
	var v []string
	return v, c.do(ctx, "GET", "/v1/domains", nil, &v)
}

// remoteError is an error the server reported: its own words, matching
// the sentinel its code names.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

func (c *Client) Trust(ctx context.Context) (orgrel.Trust, error) {
	var v orgrel.Trust
	return v, c.do(ctx, "GET", "/v1/trust", nil, &v)
}

func (c *Client) SetTrust(ctx context.Context, actor string, t orgrel.Trust) (orgrel.Trust, error) {
	var v orgrel.Trust
	return v, c.do(ctx, "PUT", "/v1/trust", t, &v)
}

func (c *Client) Registration(ctx context.Context) (orgrel.Registration, error) {
	var v orgrel.Registration
	return v, c.do(ctx, "GET", "/v1/trust/registration", nil, &v)
}

func (c *Client) DomainChecks(ctx context.Context) ([]orgrel.DomainCheck, error) {
	var v []orgrel.DomainCheck
	return v, c.do(ctx, "GET", "/v1/domain-checks", nil, &v)
}

func (c *Client) WaitApplied(ctx context.Context, change int64, wait time.Duration) (Applied, error) {
	var v Applied
	// The server waits; this request may take that long and more.
	cc := *c
	cc.http = outbound.Default().HTTP(wait + 30*time.Second)
	return v, cc.do(ctx, "GET", "/v1/applied?change="+strconv.FormatInt(change, 10)+"&wait="+url.QueryEscape(wait.String()), nil, &v)
}

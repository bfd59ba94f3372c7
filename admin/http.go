package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

// Route is one endpoint of the admin API. Paths use {name} variables; the
// router that mounts them must make them available as r.PathValue.
type Route struct {
	Method, Path string
	Handler      http.Handler
}

// Handler serves an API as JSON over HTTP, behind a bearer token.
type Handler struct {
	api       API
	tokenHash [32]byte
	log       *slog.Logger
}

// ActorHeader carries who is acting, as the caller's own user name; the
// audit log records it with "via admin API".
const ActorHeader = "X-Calfed-Actor"

// NewHandler serves api to holders of token.
func NewHandler(api API, token string, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{api: api, tokenHash: sha256.Sum256([]byte(token)), log: log}
}

// Routes lists the endpoints.
func (h *Handler) Routes() []Route {
	r := func(method, path string, f func(w http.ResponseWriter, r *http.Request, actor string) (any, int, error)) Route {
		return Route{method, path, h.wrap(f)}
	}
	return []Route{
		r("GET", "/v1/orgrels", h.listRelationships),
		r("POST", "/v1/orgrels", h.newRelationship),
		r("GET", "/v1/orgrels/{name}", h.getRelationship),
		r("PUT", "/v1/orgrels/{name}", h.setRelationship),
		r("DELETE", "/v1/orgrels/{name}", h.removeRelationship),
		r("PUT", "/v1/orgrels/{name}/outbound", h.setOutbound),
		r("POST", "/v1/apply/orgrels", h.apply),
		r("GET", "/v1/mailboxes/{address}/sharing", h.getSharing),
		r("PUT", "/v1/mailboxes/{address}/sharing", h.setSharing),
		r("GET", "/v1/accounts", h.listAccounts),
		r("POST", "/v1/accounts", h.newAccount),
		r("POST", "/v1/accounts/{name}/rotate", h.rotateAccount),
		r("POST", "/v1/accounts/{name}/revoke", h.revokeAccount),
		r("GET", "/v1/audit", h.audit),
		r("GET", "/v1/access", h.accessLog),
		r("GET", "/v1/access/partners", h.partnerActivity),
		r("GET", "/v1/domains", h.domains),
		r("GET", "/v1/trust", h.getTrust),
		r("PUT", "/v1/trust", h.setTrust),
		r("GET", "/v1/trust/registration", h.getRegistration),
		r("GET", "/v1/domain-checks", h.domainChecks),
		r("GET", "/v1/applied", h.applied),
	}
}

type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// errorCodes pairs each sentinel with its wire code and HTTP status.
var errorCodes = []struct {
	err    error
	code   string
	status int
}{
	{store.ErrNotFound, "not_found", http.StatusNotFound},
	{ErrUnknownMailbox, "unknown_mailbox", http.StatusNotFound},
	{store.ErrExists, "exists", http.StatusConflict},
	{store.ErrConflict, "conflict", http.StatusConflict},
	{store.ErrDomainTaken, "domain_taken", http.StatusConflict},
	{store.ErrInvalid, "invalid", http.StatusBadRequest},
	{trust.ErrProofUnchecked, "try_again", http.StatusServiceUnavailable},
	{errBadRequest, "invalid", http.StatusBadRequest},
}

var errBadRequest = errors.New("admin: bad request")

func (h *Handler) wrap(f func(w http.ResponseWriter, r *http.Request, actor string) (any, int, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], h.tokenHash[:]) != 1 {
			h.log.Warn("admin API refused", "outcome", "denied", "remote", r.RemoteAddr, "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Bearer realm="calfed admin"`)
			writeJSON(w, http.StatusUnauthorized, apiError{"a valid bearer token is required", "unauthorized"})
			return
		}
		actor := strings.TrimSpace(r.Header.Get(ActorHeader))
		if actor == "" {
			actor = "unnamed"
		}
		actor += " via admin API"
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		v, status, err := f(w, r, actor)
		if err != nil {
			e := apiError{Error: err.Error(), Code: "internal"}
			status = http.StatusInternalServerError
			for _, c := range errorCodes {
				if errors.Is(err, c.err) {
					e.Code, status = c.code, c.status
					break
				}
			}
			if status == http.StatusInternalServerError {
				h.log.Error("admin API", "path", r.URL.Path, "err", err)
				e.Error = "internal error; see the server log"
			}
			v = e
		}
		h.log.Info("admin API", "method", r.Method, "path", r.URL.Path, "actor", actor, "status", status, "duration", time.Since(start))
		writeJSON(w, status, v)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON value", errBadRequest)
	}
	return nil
}

func (h *Handler) listRelationships(w http.ResponseWriter, r *http.Request, _ string) (any, int, error) {
	v, err := h.api.Relationships(r.Context())
	if v == nil {
		v = []orgrel.Relationship{}
	}
	return v, http.StatusOK, err
}

func (h *Handler) getRelationship(w http.ResponseWriter, r *http.Request, _ string) (any, int, error) {
	v, err := h.api.Relationship(r.Context(), r.PathValue("name"))
	return v, http.StatusOK, err
}

func (h *Handler) newRelationship(w http.ResponseWriter, r *http.Request, actor string) (any, int, error) {
	var rel orgrel.Relationship
	if err := decode(r, &rel); err != nil {
		return nil, 0, err
	}
	v, err := h.api.NewRelationship(r.Context(), actor, rel)
	return v, http.StatusCreated, err
}

func (h *Handler) setRelationship(w http.ResponseWriter, r *http.Request, actor string) (any, int, error) {
	var rel orgrel.Relationship
	if err := decode(r, &rel); err != nil {
		return nil, 0, err
	}
	if !strings.EqualFold(rel.Name, r.PathValue("name")) {
		return nil, 0, fmt.Errorf("%w: the body names %q, the path %q", errBadRequest, rel.Name, r.PathValue("name"))
	}
	v, err := h.api.SetRelationship(r.Context(), actor, r.URL.Query().Get("action"), rel)
	return v, http.StatusOK, err
}

func versionParam(r *http.Request) (int64, error) {
	v, err := strconv.ParseInt(r.URL.Query().Get("version"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: the version query parameter is required", errBadRequest)
	}
	return v, nil
}

func (h *Handler) removeRelationship(w http.ResponseWriter, r *http.Request, actor string) (any, int, error) {
	v, err := versionParam(r)
	if err != nil {
		return nil, 0, err
	}
	return struct{}{}, http.StatusOK, h.api.RemoveRelationship(r.Context(), actor, r.PathValue("name"), v)
}

func (h *Handler) apply(w http.ResponseWriter, r *http.Request, actor string) (any, int, error) {
	var want []orgrel.Relationship
	if err := decode(r, &want); err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	v, err := h.api.Apply(r.Context(), actor, want, ApplyOptions{DryRun: q.Get("dry_run") == "true", Prune: q.Get("prune") == "true"})
	return v, http.StatusOK, err
}

func (h *Handler) getSharing(w http.ResponseWriter, r *http.Request, _ string) (any, int, error) {
	v, err := h.api.Mailbox(r.Context(), r.PathValue("address"))
	return v, http.StatusOK, err
}

type sharingChange struct {
	Level   orgrel.Level `json:"level"`
	Version int64        `json:"version"`
}

func (h *Handler) setSharing(w http.ResponseWriter, r *http.Request, actor string) (any, int, error) {
	var c sharingChange
	if err := decode(r, &c); err != nil {
		return nil, 0, err
	}
	v, err := h.api.ShareMailbox(r.Context(), actor, r.PathValue("address"), c.Level, c.Version)
	return v, http.StatusOK, err
}

func (h *Handler) listAccounts(w http.ResponseWriter, r *http.Request, _ string) (any, int, error) {
	v, err := h.api.Accounts(r.Context())
	if v == nil {
		v = []orgrel.ServiceAccount{}
	}
	return v, http.StatusOK, err
}

type newAccount struct {
	Name         string `json:"name"`
	Relationship string `json:"relationship"`
}

type accountWithSecret struct {
	Account orgrel.ServiceAccount `json:"account"`
	Secret  string                `json:"secret"`
}

type versionBody struct {
	Version int64 `json:"version"`
}

// rotateBody asks for a rotation of the version read; Overlap is how
// long the previous secret stays valid, as a Go duration ("168h", "0s"),
// default orgrel.RotationOverlap.
type rotateBody struct {
	Version int64  `json:"version"`
	Overlap string `json:"overlap,omitempty"`
}

func (h *Handler) newAccount(w http.ResponseWriter, r *http.Request, actor string) (any, int, error) {
	var n newAccount
	if err := decode(r, &n); err != nil {
		return nil, 0, err
	}
	a, secret, err := h.api.NewAccount(r.Context(), actor, n.Name, n.Relationship)
	return accountWithSecret{a, secret}, http.StatusCreated, err
}

func (h *Handler) rotateAccount(w http.ResponseWriter, r *http.Request, actor string) (any, int, error) {
	var v rotateBody
	if err := decode(r, &v); err != nil {
		return nil, 0, err
	}
	overlap := orgrel.RotationOverlap
	if v.Overlap != "" {
		d, err := time.ParseDuration(v.Overlap)
		if err != nil || d < 0 {
			return nil, 0, fmt.Errorf("%w: overlap %q: want a duration such as 168h, or 0s", store.ErrInvalid, v.Overlap)
		}
		overlap = d
	}
	a, secret, err := h.api.RotateAccount(r.Context(), actor, r.PathValue("name"), overlap, v.Version)
	return accountWithSecret{a, secret}, http.StatusOK, err
}

func (h *Handler) setOutbound(w http.ResponseWriter, r *http.Request, actor string) (any, int, error) {
	var v outboundBody
	if err := decode(r, &v); err != nil {
		return nil, 0, err
	}
	err := h.api.SetOutboundCredential(r.Context(), actor, r.PathValue("name"), v.Account, v.Secret)
	return map[string]string{"relationship": r.PathValue("name"), "account": v.Account}, http.StatusOK, err
}

func (h *Handler) revokeAccount(w http.ResponseWriter, r *http.Request, actor string) (any, int, error) {
	var v versionBody
	if err := decode(r, &v); err != nil {
		return nil, 0, err
	}
	a, err := h.api.RevokeAccount(r.Context(), actor, r.PathValue("name"), v.Version)
	return a, http.StatusOK, err
}

func (h *Handler) audit(w http.ResponseWriter, r *http.Request, _ string) (any, int, error) {
	q := r.URL.Query()
	var since time.Time
	if s := q.Get("since"); s != "" {
		var err error
		if since, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, 0, fmt.Errorf("%w: since must be RFC 3339", errBadRequest)
		}
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	v, err := h.api.Audit(r.Context(), since, limit)
	if v == nil {
		v = []orgrel.AuditEntry{}
	}
	return v, http.StatusOK, err
}

// queryTime reads an RFC 3339 time from the query; zero when absent.
func queryTime(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s must be RFC 3339", errBadRequest, name)
	}
	return t, nil
}

func (h *Handler) accessLog(w http.ResponseWriter, r *http.Request, _ string) (any, int, error) {
	q := r.URL.Query()
	aq := orgrel.AccessQuery{Partner: q.Get("partner"), Mailbox: q.Get("mailbox")}
	var err error
	if aq.Since, err = queryTime(q, "since"); err != nil {
		return nil, 0, err
	}
	if aq.Until, err = queryTime(q, "until"); err != nil {
		return nil, 0, err
	}
	if l := q.Get("limit"); l != "" {
		if aq.Limit, err = strconv.Atoi(l); err != nil || aq.Limit < 0 {
			return nil, 0, fmt.Errorf("%w: limit must be a number of entries", errBadRequest)
		}
	}
	v, err := h.api.AccessLog(r.Context(), aq)
	if v == nil {
		v = []orgrel.AccessEntry{}
	}
	return v, http.StatusOK, err
}

func (h *Handler) partnerActivity(w http.ResponseWriter, r *http.Request, _ string) (any, int, error) {
	since, err := queryTime(r.URL.Query(), "since")
	if err != nil {
		return nil, 0, err
	}
	v, err := h.api.PartnerActivity(r.Context(), since)
	if v == nil {
		v = []orgrel.PartnerActivity{}
	}
	return v, http.StatusOK, err
}

func (h *Handler) domains(w http.ResponseWriter, r *http.Request, _ string) (any, int, error) {
	v, err := h.api.Domains(r.Context())
	return v, http.StatusOK, err
}

func (h *Handler) domainChecks(w http.ResponseWriter, r *http.Request, _ string) (any, int, error) {
	v, err := h.api.DomainChecks(r.Context())
	if v == nil {
		v = []orgrel.DomainCheck{}
	}
	return v, http.StatusOK, err
}

func (h *Handler) getTrust(w http.ResponseWriter, r *http.Request, _ string) (any, int, error) {
	v, err := h.api.Trust(r.Context())
	return v, http.StatusOK, err
}

func (h *Handler) getRegistration(w http.ResponseWriter, r *http.Request, _ string) (any, int, error) {
	v, err := h.api.Registration(r.Context())
	return v, http.StatusOK, err
}

func (h *Handler) setTrust(w http.ResponseWriter, r *http.Request, actor string) (any, int, error) {
	var t orgrel.Trust
	if err := decode(r, &t); err != nil {
		return nil, 0, err
	}
	v, err := h.api.SetTrust(r.Context(), actor, t)
	return v, http.StatusOK, err
}

// applied waits for the running servers to apply a change: ?change=N
// (default: every change so far) and ?wait=DURATION (default 0: report
// at once).
func (h *Handler) applied(w http.ResponseWriter, r *http.Request, _ string) (any, int, error) {
	q := r.URL.Query()
	var change int64
	if v := q.Get("change"); v != "" {
		var err error
		if change, err = strconv.ParseInt(v, 10, 64); err != nil || change < 0 {
			return nil, 0, fmt.Errorf("%w: change must be a change counter (a whole number), not %q", errBadRequest, v)
		}
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		var err error
		if wait, err = time.ParseDuration(v); err != nil {
			return nil, 0, fmt.Errorf("%w: wait must be a duration such as 10s, not %q", errBadRequest, v)
		}
	}
	a, err := h.api.WaitApplied(r.Context(), change, wait)
	if a.Servers == nil {
		a.Servers = []orgrel.Server{}
	}
	return a, http.StatusOK, err
}

package autodiscover

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/accesslog"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/orgrel"
)

// Directory is the mailbox directory (*calendar.Directory with the
// domains it serves).
type Directory interface {
	Lookup(address string) (*calendar.Mailbox, bool)
	Domains() []string
}

// Access decides whether a caller's organisation relationship covers a
// mailbox (the live orgrel policy).
type Access interface {
	Access(caller identity.Caller, mailbox string, groups []string) orgrel.Decision
}

// Options configure a Handler. Directory, Access and Trust are required.
type Options struct {
	Directory Directory
	Access    Access
	// Trust returns the federation trust as it is now; nil when none is
	// set up (GetFederationInformation then answers NotFederated).
	Trust func() *orgrel.Trust
	// PublicURL is the base of the URLs handed out, e.g.
	// https://mail.contoso.example. Empty: the scheme the request came
	// over and a host of ours (PublicHosts; host.go).
	PublicURL string
	// PublicHosts, without PublicURL, are the host names this server is
	// reached by, canonical (internal/domainname), the first the default;
	// "*.domain" matches one label. A request's Host is used in the URLs
	// handed out only when it is one of them or the address the request
	// arrived at; any other Host gives way to the first of them, or with
	// none to that address. A name with no canonical form is left out
	// (the configuration refuses it).
	PublicHosts []string
	// Relationship returns our organisation relationship covering a
	// domain, for GetOrganizationRelationshipSettings.
	Relationship func(domain string) (orgrel.Relationship, bool)
	// RedirectAddresses sends POX and SOAP lookups of one address to
	// another (redirectAddr / RedirectAddress), keyed by canonical
	// address (internal/domainname).
	RedirectAddresses map[string]string
	// RedirectURL, when set, answers POX lookups of addresses outside our
	// domains with redirectUrl to it.
	RedirectURL string
	ServerName  string       // default "calfed"
	Limits      soap.Limits  // request bounds
	MaxUsers    int          // per GetUserSettings request; default 100
	Logger      *slog.Logger // nil discards
}

// Handler serves Autodiscover.
type Handler struct {
	opt   Options
	hosts []string // PublicHosts, canonical
	log   *slog.Logger
}

// New returns a Handler.
func New(opt Options) *Handler {
	if opt.MaxUsers <= 0 {
		opt.MaxUsers = 100
	}
	if opt.ServerName == "" {
		opt.ServerName = "calfed"
	}
	h := &Handler{opt: opt, log: opt.Logger}
	for _, name := range opt.PublicHosts {
		rest, wild := strings.CutPrefix(name, "*.")
		if c, err := domainname.Canonical(rest); err == nil {
			if wild {
				c = "*." + c
			}
			h.hosts = append(h.hosts, c)
		}
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// SOAP serves /autodiscover/autodiscover.svc. tokenPath is true for the
// /WSSecurity variant, where callers present delegation tokens (checked in
// front of this handler).
func (h *Handler) SOAP(tokenPath bool) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			h.capabilities(rw)
			rw.WriteHeader(http.StatusOK)
			return
		}
		if r.Method != http.MethodPost {
			rw.Header().Set("Allow", "POST, GET")
			http.Error(rw, "Autodiscover takes POST", http.StatusMethodNotAllowed)
			return
		}
		body, err := soap.ReadRequest(r, h.opt.Limits)
		if err != nil {
			h.soapFault(rw, soap.V11, "The request is too large.")
			return
		}
		req := &request{}
		ver, err := soap.Decode(body, h.opt.Limits, req)
		if err != nil {
			h.log.Info("malformed Autodiscover request", "remote", r.RemoteAddr, "err", err)
			h.soapFault(rw, ver, "The request is not a valid SOAP Autodiscover message.")
			return
		}
		caller, authenticated := identity.FromContext(r.Context())
		switch {
		case req.fedInfo != nil:
			// The one anonymous operation. docs/protocol.md §2.1.
			h.reply(rw, ver, req, "GetFederationInformation", func(w *soap.Writer) { h.federationInformation(w, req) })
		case req.orgRel != nil:
			// Only for delegation-token callers (Test-OrganizationRelationship).
			if !tokenPath || !authenticated || h.opt.Relationship == nil {
				h.unauthorized(rw, r, "GetOrganizationRelationshipSettings needs a delegation token")
				return
			}
			h.reply(rw, ver, req, "GetOrganizationRelationshipSettings", func(w *soap.Writer) { h.orgRelSettings(w, req, caller) })
		case req.userSettings != nil || req.domainSettings != nil:
			// On the token path the federation guard has put the token's
			// caller in the context; on the plain path, Basic credentials did.
			if !authenticated {
				h.unauthorized(rw, r, "authentication required")
				return
			}
			if req.userSettings != nil {
				h.reply(rw, ver, req, "GetUserSettings", func(w *soap.Writer) { h.userSettings(w, r, req, caller) })
			} else {
				h.reply(rw, ver, req, "GetDomainSettings", func(w *soap.Writer) { h.domainSettings(w, r, req) })
			}
		default:
			h.soapFault(rw, ver, "The request names no Autodiscover operation.")
		}
	})
}

// unauthorized answers 401 as Exchange's Autodiscover does. docs/protocol.md §2.1.
func (h *Handler) unauthorized(rw http.ResponseWriter, r *http.Request, reason string) {
	h.log.Info("Autodiscover refused", "outcome", "denied", "remote", r.RemoteAddr, "reason", reason)
	rw.Header().Set("WWW-Authenticate", `Basic realm="calfed"`)
	rw.Header().Set("Content-Length", "0")
	rw.WriteHeader(http.StatusUnauthorized)
}

// capabilities are the headers clients probe with GET.
func (h *Handler) capabilities(rw http.ResponseWriter) {
	hd := rw.Header()
	hd.Set("X-SOAP-Enabled", "True")
	hd.Set("X-WSSecurity-Enabled", "True")
	hd.Set("X-WSSecurity-For", "None")
	hd.Set("X-OAuth-Enabled", "False")
	hd.Set("X-Calfed-Autodiscover", "POX, SOAP")
}

func writeServerVersion(w *soap.Writer) {
	w.Start("h:ServerVersionInfo", "xmlns:h", nsAutodiscover, "xmlns:i", nsXSI)
	w.ElemInt("h:MajorVersion", 15)
	w.ElemInt("h:MinorVersion", 1)
	w.ElemInt("h:MajorBuildNumber", 2507)
	w.ElemInt("h:MinorBuildNumber", 6)
	// docs/protocol.md §2.1 leaves the value open; exchangelib accepts only a name it
	// pairs with build 15.1, which is Exchange2016.
	w.Elem("h:Version", "Exchange2016")
	w.End("h:ServerVersionInfo")
}

// reply writes a response envelope with Exchange's headers in the layout
// of Exchange's own answers ([DOC] the Autodiscover response examples):
// the addressing prefix declared on the Envelope, Action with
// mustUnderstand as its first and only attribute, ServerVersionInfo, and
// RelatesTo. Exchange's requester maps only ServerVersionInfo and refuses
// any other header marked mustUnderstand unless the mark comes first.
// docs/protocol.md §2.1.
func (h *Handler) reply(rw http.ResponseWriter, ver soap.Version, req *request, op string, body func(*soap.Writer)) {
	out := soap.Envelope(ver, func(w *soap.Writer) {
		w.Elem("a:Action", actionPrefix+op+"Response", "s:mustUnderstand", "1")
		writeServerVersion(w)
		if req.messageID != "" {
			w.Elem("a:RelatesTo", req.messageID)
		}
	}, func(w *soap.Writer) {
		w.Start(op+"ResponseMessage", "xmlns", nsAutodiscover)
		w.Start("Response", "xmlns:i", nsXSI)
		body(w)
		w.End("Response")
		w.End(op + "ResponseMessage")
	}, "xmlns:a", nsAddressing)
	soap.WriteResponse(rw, ver, http.StatusOK, out)
}

func (h *Handler) soapFault(rw http.ResponseWriter, ver soap.Version, reason string) {
	f := soap.Fault{Code: "Sender", Reason: reason}
	soap.WriteResponse(rw, ver, http.StatusInternalServerError, f.Write(ver, writeServerVersion))
}

func errorHead(w *soap.Writer, code, msg string) {
	w.Elem("ErrorCode", code)
	if msg == "" {
		w.Empty("ErrorMessage")
	} else {
		w.Elem("ErrorMessage", msg)
	}
}

// federationInformation is GetFederationInformation. docs/protocol.md §2.2.
func (h *Handler) federationInformation(w *soap.Writer, req *request) {
	domain := ""
	if req.fedInfo.Domain != nil {
		// The domain's canonical form (internal/domainname); one with none
		// is no domain of ours.
		domain, _ = domainname.Canonical(strings.TrimSpace(*req.fedInfo.Domain))
	}
	if domain == "" || !strings.Contains(domain, ".") {
		errorHead(w, "InvalidRequest", "The request must name a domain.")
		return
	}
	t := h.opt.Trust()
	if t == nil {
		errorHead(w, "NotFederated", "The organization is not federated.")
		return
	}
	found := false
	for _, d := range t.Domains {
		if d == domain {
			found = true
		}
	}
	if !found {
		errorHead(w, "InvalidDomain", "The domain "+domain+" is not a federated domain of this organization.")
		return
	}
	errorHead(w, "NoError", "")
	w.Elem("ApplicationUri", t.ApplicationURI)
	w.Start("Domains")
	if t.DiscloseAllDomains {
		for _, d := range t.Domains {
			w.Elem("Domain", d)
		}
	} else {
		// Only the domain asked about, as Exchange Online answers, so
		// that one lookup does not list every organisation we host.
		w.Elem("Domain", domain)
	}
	w.End("Domains")
	w.Start("TokenIssuers")
	w.Start("TokenIssuer")
	w.Elem("Endpoint", t.TokenIssuerEndpoint)
	w.Elem("Uri", t.TokenIssuerURI)
	w.End("TokenIssuer")
	w.End("TokenIssuers")
}

// redirect is the address RedirectAddresses sends addr to, looked up by
// addr's canonical form.
func (h *Handler) redirect(addr string) (string, bool) {
	a, err := domainname.Address(addr)
	if err != nil {
		return "", false
	}
	target, ok := h.opt.RedirectAddresses[a]
	return target, ok
}

// covered reports whether the caller's relationship covers mb, as
// Exchange answers external callers only for those. docs/protocol.md §2.3.
func (h *Handler) covered(caller identity.Caller, mb *calendar.Mailbox) bool {
	return h.opt.Access.Access(caller, mb.Address, mb.Groups).Related
}

// userSettings is GetUserSettings. docs/protocol.md §2.3.
func (h *Handler) userSettings(w *soap.Writer, r *http.Request, req *request, caller identity.Caller) {
	us := req.userSettings
	switch {
	case len(us.Users) == 0:
		errorHead(w, "InvalidRequest", "The request must name at least one user.")
		return
	case len(us.Users) > h.opt.MaxUsers:
		errorHead(w, "InvalidRequest", "The request names "+strconv.Itoa(len(us.Users))+" users; at most "+strconv.Itoa(h.opt.MaxUsers)+" are allowed.")
		return
	case len(us.Settings) == 0:
		errorHead(w, "InvalidRequest", "The request must name at least one setting.")
		return
	}
	base := h.base(r)
	errorHead(w, "NoError", "")
	w.Start("UserResponses")
	for _, addr := range us.Users {
		addr = strings.TrimSpace(addr)
		w.Start("UserResponse")
		if target, ok := h.redirect(addr); ok {
			errorHead(w, "RedirectAddress", "Redirection address.")
			w.Elem("RedirectTarget", target)
			w.Empty("UserSettingErrors")
			w.Empty("UserSettings")
			w.End("UserResponse")
			continue
		}
		mb, ok := h.opt.Directory.Lookup(addr)
		if !ok || !h.covered(caller, mb) {
			// Unknown and not covered look alike, so a partner learns
			// nothing about mailboxes outside its relationship.
			if ok {
				accesslog.Note(r.Context(), mb.Address, "None", "NoAccess")
			} else {
				accesslog.Note(r.Context(), addr, "None", "NotFound")
			}
			errorHead(w, "InvalidUser", "Invalid user: '"+addr+"'")
			w.Empty("RedirectTarget", "i:nil", "true")
			w.Empty("UserSettingErrors")
			w.Empty("UserSettings")
			w.End("UserResponse")
			continue
		}
		accesslog.Note(r.Context(), mb.Address, "UserSettings", "OK")
		errorHead(w, "NoError", "No error.")
		w.Empty("RedirectTarget", "i:nil", "true")
		type value struct{ name, v string }
		var values []value
		var errs []value // name, code
		for _, name := range us.Settings {
			name = strings.TrimSpace(name)
			if !knownUserSettings[name] {
				errs = append(errs, value{name, "InvalidSetting"})
				continue
			}
			v, ok := h.userSetting(name, mb, base)
			if !ok {
				errs = append(errs, value{name, "SettingIsNotAvailable"})
				continue
			}
			values = append(values, value{name, v})
		}
		w.Start("UserSettingErrors")
		for _, e := range errs {
			w.Start("UserSettingError")
			msg := "The setting is not available."
			if e.v == "InvalidSetting" {
				msg = "The setting name is not valid."
			}
			w.Elem("ErrorCode", e.v)
			w.Elem("ErrorMessage", msg)
			w.Elem("SettingName", e.name)
			w.End("UserSettingError")
		}
		w.End("UserSettingErrors")
		w.Start("UserSettings")
		for _, v := range values {
			w.Start("UserSetting", "i:type", "StringSetting")
			w.Elem("Name", v.name)
			w.Elem("Value", v.v)
			w.End("UserSetting")
		}
		w.End("UserSettings")
		w.End("UserResponse")
	}
	w.End("UserResponses")
}

// domainSettings is GetDomainSettings for our own domains.
func (h *Handler) domainSettings(w *soap.Writer, r *http.Request, req *request) {
	ds := req.domainSettings
	if len(ds.Domains) == 0 {
		errorHead(w, "InvalidRequest", "The request must name at least one domain.")
		return
	}
	if len(ds.Settings) == 0 {
		// ews-javascript-api 0.15 sends RequestedSettings empty whatever it
		// was asked for; answer with every domain setting rather than fail
		// the one client that calls this operation.
		ds.Settings = allDomainSettings
	}
	ours := map[string]bool{}
	for _, d := range h.opt.Directory.Domains() {
		ours[d] = true
	}
	if t := h.opt.Trust(); t != nil {
		for _, d := range t.Domains {
			ours[d] = true
		}
	}
	base := h.base(r)
	errorHead(w, "NoError", "")
	w.Start("DomainResponses")
	for _, dom := range ds.Domains {
		dom = strings.TrimSpace(dom)
		w.Start("DomainResponse")
		if c, err := domainname.Canonical(dom); err != nil || !ours[c] {
			errorHead(w, "InvalidDomain", "The domain "+dom+" is not served here.")
			w.Empty("DomainSettingErrors")
			w.Empty("DomainSettings")
			w.Empty("RedirectTarget", "i:nil", "true")
			w.End("DomainResponse")
			continue
		}
		errorHead(w, "NoError", "No error.")
		w.Start("DomainSettingErrors")
		for _, name := range ds.Settings {
			if _, _, known := domainSetting(strings.TrimSpace(name), base); !known {
				w.Start("DomainSettingError")
				w.Elem("ErrorCode", "InvalidSetting")
				w.Elem("ErrorMessage", "The setting name is not valid.")
				w.Elem("SettingName", strings.TrimSpace(name))
				w.End("DomainSettingError")
			}
		}
		w.End("DomainSettingErrors")
		w.Start("DomainSettings")
		for _, name := range ds.Settings {
			if v, ok, _ := domainSetting(strings.TrimSpace(name), base); ok {
				w.Start("DomainSetting", "i:type", "DomainStringSetting")
				w.Elem("Name", strings.TrimSpace(name))
				w.Elem("Value", v)
				w.End("DomainSetting")
			}
		}
		w.End("DomainSettings")
		w.Empty("RedirectTarget", "i:nil", "true")
		w.End("DomainResponse")
	}
	w.End("DomainResponses")
}

// orgRelSettings is GetOrganizationRelationshipSettings: our relationship
// with the caller's organisation, for the domains asked about that are the
// caller's own (a partner learns nothing about our other partners).
// docs/protocol.md §2.4; members in WCF's alphabetical order.
func (h *Handler) orgRelSettings(w *soap.Writer, req *request, caller identity.Caller) {
	errorHead(w, "NoError", "")
	w.Start("OrganizationRelationshipSettingsCollection")
	seen := map[string]bool{}
	for _, d := range req.orgRel.Domains {
		rel, ok := h.opt.Relationship(strings.TrimSpace(d)) // compared in canonical form
		if !ok || seen[rel.Name] {
			continue
		}
		mine := false
		for _, rd := range rel.Domains {
			mine = mine || rd == caller.Domain
		}
		if !mine {
			continue
		}
		seen[rel.Name] = true
		level := rel.FreeBusyAccessLevel.String()
		w.Start("OrganizationRelationshipSettings")
		w.ElemBool("DeliveryReportEnabled", false)
		w.Start("DomainNames")
		for _, rd := range rel.Domains {
			w.Elem("Domain", rd)
		}
		w.End("DomainNames")
		w.ElemBool("FreeBusyAccessEnabled", rel.Enabled && rel.FreeBusyAccessEnabled)
		w.Elem("FreeBusyAccessLevel", level)
		w.ElemBool("MailTipsAccessEnabled", rel.Enabled && rel.MailTipsAccessEnabled)
		w.Elem("MailTipsAccessLevel", rel.MailTipsAccessLevel.String())
		w.ElemBool("MailboxMoveEnabled", false)
		w.Elem("Name", rel.Name)
		w.Elem("TargetApplicationUri", rel.TargetApplicationURI)
		w.Elem("TargetAutodiscoverEpr", rel.TargetAutodiscoverEPR)
		w.Elem("TargetSharingEpr", rel.TargetSharingEPR)
		w.End("OrganizationRelationshipSettings")
	}
	w.End("OrganizationRelationshipSettingsCollection")
}

package autodiscover

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/calfed/calfed/internal/accesslog"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/legacydn"
	"github.com/calfed/calfed/internal/soap"
)

// poxRequest is the Outlook (or mobilesync) Autodiscover request.
// [MS-OXDSCLI] 2.2.3.
type poxRequest struct {
	XMLName xml.Name
	Email   string `xml:"Request>EMailAddress"`
	// LegacyDN wins over EMailAddress when both are present. [MS-OXDSCLI] 3.2.5.
	LegacyDN string `xml:"Request>LegacyDN"`
	Schema   string `xml:"Request>AcceptableResponseSchema"`
}

// POX serves /autodiscover/autodiscover.xml: GET answers the capability
// probe, POST the Outlook provider. docs/protocol.md §3.
func (h *Handler) POX() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.capabilities(rw)
			rw.WriteHeader(http.StatusOK)
			return
		case http.MethodPost:
		default:
			rw.Header().Set("Allow", "POST, GET")
			http.Error(rw, "Autodiscover takes POST", http.StatusMethodNotAllowed)
			return
		}
		caller, ok := identity.FromContext(r.Context())
		if !ok {
			h.unauthorized(rw, r, "authentication required")
			return
		}
		body, err := soap.ReadBody(r.Body, soap.Limits{MaxBytes: 64 << 10})
		if err != nil {
			h.poxError(rw, "600", "Invalid Request")
			return
		}
		var req poxRequest
		if err := xml.Unmarshal(body, &req); err != nil || req.XMLName.Local != "Autodiscover" ||
			(req.XMLName.Space != nsPOXRequest && req.XMLName.Space != nsPOXMobileRequest) {
			h.poxError(rw, "600", "Invalid Request")
			return
		}
		if strings.TrimSpace(req.Schema) != nsPOXOutlook {
			// Only the Outlook provider is here; mobilesync and anything
			// else get "provider not available".
			h.poxError(rw, "601", "The requested schema version is not available.")
			return
		}
		addr := strings.TrimSpace(req.Email)
		if legacy := strings.TrimSpace(req.LegacyDN); legacy != "" {
			addr = h.addressForLegacyDN(legacy, addr)
		}
		if _, err := domainname.Address(addr); err != nil {
			// No canonical form (internal/domainname): no address of
			// ours or anyone's, so neither found nor redirected.
			h.poxError(rw, "602", "The e-mail address is not valid.")
			return
		}
		if target, ok := h.redirect(addr); ok {
			h.poxRedirect(rw, "redirectAddr", "RedirectAddr", target)
			return
		}
		mb, found := h.opt.Directory.Lookup(addr)
		if !found && h.opt.RedirectURL != "" && !h.ourDomain(addr) {
			h.poxRedirect(rw, "redirectUrl", "RedirectUrl", h.opt.RedirectURL)
			return
		}
		if !found || !h.covered(caller, mb) {
			if found {
				accesslog.Note(r.Context(), mb.Address, "None", "NoAccess")
			} else {
				accesslog.Note(r.Context(), addr, "None", "NotFound")
			}
			h.poxError(rw, "602", "The e-mail address cannot be found.")
			return
		}
		accesslog.Note(r.Context(), mb.Address, "Settings", "OK")
		base := h.base(r)
		ews := base + "/EWS/Exchange.asmx"
		host := base
		if u, err := url.Parse(base); err == nil {
			host = u.Hostname()
		}
		w := &soap.Writer{}
		w.B = append(w.B, `<?xml version="1.0" encoding="utf-8"?>`...)
		w.Start("Autodiscover", "xmlns", nsPOXResponse)
		w.Start("Response", "xmlns", nsPOXOutlook)
		w.Start("User")
		w.Elem("DisplayName", mb.DisplayName)
		w.Elem("LegacyDN", legacyDN(mb.Address))
		w.Elem("AutoDiscoverSMTPAddress", mb.Address)
		w.Elem("DeploymentId", deploymentID(mb.Address))
		w.End("User")
		w.Start("Account")
		w.Elem("AccountType", "email")
		w.Elem("Action", "settings")
		w.Elem("MicrosoftOnline", "False")
		for _, typ := range []string{"EXPR", "WEB"} {
			w.Start("Protocol")
			w.Elem("Type", typ)
			if typ == "EXPR" {
				w.Elem("Server", host)
				w.Elem("ASUrl", ews)
				w.Elem("EwsUrl", ews)
				w.Elem("OOFUrl", ews)
				w.Elem("AuthRequired", "On")
				w.Elem("AuthPackage", "Basic")
				w.Elem("ServerVersion", serverVersionHex(15, 1, 2507))
			} else {
				w.Start("External")
				w.Start("Protocol")
				w.Elem("Type", "EXPR")
				w.Elem("ASUrl", ews)
				w.End("Protocol")
				w.End("External")
				w.Start("Internal")
				w.Start("Protocol")
				w.Elem("Type", "EXPR")
				w.Elem("ASUrl", ews)
				w.End("Protocol")
				w.End("Internal")
			}
			w.End("Protocol")
		}
		w.End("Account")
		w.End("Response")
		w.End("Autodiscover")
		writeXML(rw, http.StatusOK, w.B)
	})
}

// serverVersionHex encodes a build as POX ServerVersion: 4 bits of
// structure version, 6 major, 6 minor, a flag, 15 of build. [MS-OXDSCLI]
// 2.2.4.1.1.2.1.1.17.
func serverVersionHex(major, minor, build int) string {
	v := uint32(0x7)<<28 | uint32(major)<<22 | uint32(minor)<<16 | 1<<15 | uint32(build)
	return fmt.Sprintf("%08X", v)
}

// addressForLegacyDN maps one of our legacy DNs to its mailbox's address;
// a DN that is not ours leaves the e-mail address of the request.
func (h *Handler) addressForLegacyDN(dn, fallback string) string {
	if addr, ok := legacydn.Resolver(h.opt.Directory)(dn); ok {
		return addr
	}
	return fallback
}

// ourDomain reports whether addr's domain, in canonical form, is one of
// the directory's.
func (h *Handler) ourDomain(addr string) bool {
	d, err := domainname.DomainOf(addr)
	if err != nil {
		return false
	}
	for _, o := range h.opt.Directory.Domains() {
		if o == d {
			return true
		}
	}
	return false
}

func (h *Handler) poxRedirect(rw http.ResponseWriter, action, elem, target string) {
	w := &soap.Writer{}
	w.B = append(w.B, `<?xml version="1.0" encoding="utf-8"?>`...)
	w.Start("Autodiscover", "xmlns", nsPOXResponse)
	w.Start("Response", "xmlns", nsPOXOutlook)
	w.Start("Account")
	w.Elem("Action", action)
	w.Elem(elem, target)
	w.End("Account")
	w.End("Response")
	w.End("Autodiscover")
	writeXML(rw, http.StatusOK, w.B)
}

// poxError answers in the generic response schema, as Exchange does for
// errors (600 invalid request, 601 provider not available, 602 bad
// address, 603 directory failure). docs/protocol.md §3.
func (h *Handler) poxError(rw http.ResponseWriter, code, msg string) {
	now := time.Now()
	w := &soap.Writer{}
	w.B = append(w.B, `<?xml version="1.0" encoding="utf-8"?>`...)
	w.Start("Autodiscover", "xmlns", nsPOXResponse)
	w.Start("Response")
	w.Start("Error", "Time", now.Format("15:04:05.0000000"), "Id", strconv.FormatInt(now.UnixNano()%4294967296, 10))
	w.Elem("ErrorCode", code)
	w.Elem("Message", msg)
	w.Empty("DebugData")
	w.End("Error")
	w.End("Response")
	w.End("Autodiscover")
	writeXML(rw, http.StatusOK, w.B)
}

func writeXML(rw http.ResponseWriter, status int, b []byte) {
	rw.Header().Set("Content-Type", "text/xml; charset=utf-8")
	rw.WriteHeader(status)
	rw.Write(b)
}

// JSON serves /autodiscover/autodiscover.json/v1.0/{address}?Protocol=EWS
// with the EWS URL, so clients that try the JSON endpoint first stop
// retrying. It needs no authentication, as Exchange Online's does not.
func (h *Handler) JSON(address func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		proto := r.URL.Query().Get("Protocol")
		if proto == "" {
			proto = r.URL.Query().Get("protocol")
		}
		rw.Header().Set("Content-Type", "application/json; charset=utf-8")
		if !strings.EqualFold(proto, "EWS") && !strings.EqualFold(proto, "AutodiscoverV1") {
			rw.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(rw, `{"ErrorCode":"ProtocolNotSupported","ErrorMessage":"The given protocol value '%s' is invalid. Supported values are 'EWS,AutodiscoverV1'."}`+"\n", jsonEscape(proto))
			return
		}
		if _, err := domainname.Address(address(r)); err != nil {
			rw.WriteHeader(http.StatusBadRequest)
			fmt.Fprintln(rw, `{"ErrorCode":"InvalidUser","ErrorMessage":"The address is not an SMTP address."}`)
			return
		}
		url := h.base(r) + "/EWS/Exchange.asmx"
		if strings.EqualFold(proto, "AutodiscoverV1") {
			url = h.base(r) + "/autodiscover/autodiscover.xml"
		}
		fmt.Fprintf(rw, `{"Protocol":"%s","Url":"%s"}`+"\n", jsonEscape(proto), jsonEscape(url))
	})
}

func jsonEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Redirect is the plain-HTTP listener's handler: GET of
// /autodiscover/autodiscover.xml answers 302 to the HTTPS URL (the probe
// Exchange makes in step 3 of docs/protocol.md §2.2); everything else is 404.
func Redirect(httpsBase string) http.Handler {
	target := strings.TrimRight(httpsBase, "/") + "/autodiscover/autodiscover.xml"
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.URL.Path, "/autodiscover/autodiscover.xml") || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Location", target)
		rw.WriteHeader(http.StatusFound)
	})
}

package ews

import (
	"context"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/mailtips"
)

// GetMailTips ([MS-OXWSMTIP]): decoded here, answered by package mailtips
// (which decides what the caller's organisation may see), rendered as the
// EWS reference shows it. docs/protocol.md §8.

// offerMailTips is the delegation-token offer GetMailTips expects; a token
// caller with any other gets ErrorAccessDenied. docs/protocol.md §4.3, §8.4.
const offerMailTips = "MSExchange.MailTips"

// MailTips answers one recipient of a GetMailTips request
// (*mailtips.Service).
type MailTips interface {
	Recipient(ctx context.Context, caller identity.Caller, requested mailtips.Types, address string) mailtips.Result
}

// MailTipsOptions configure a MailTipsHandler. MailTips is required.
type MailTipsOptions struct {
	MailTips      MailTips
	Logger        *slog.Logger // nil discards
	Limits        soap.Limits  // request size, depth and element count
	MaxRecipients int          // per request; default 100
	ServerName    string       // default "calfed"
}

// MailTipsHandler serves GetMailTips. The server routes GetMailTips
// requests to it by operation, and only them: on /WSSecurity each
// operation has its own token offer (docs/protocol.md §8.4).
type MailTipsHandler struct {
	opt  MailTipsOptions
	log  *slog.Logger
	base *Handler // fault rendering
}

// NewMailTips returns a MailTipsHandler.
func NewMailTips(opt MailTipsOptions) *MailTipsHandler {
	if opt.MaxRecipients <= 0 {
		opt.MaxRecipients = 100
	}
	h := &MailTipsHandler{opt: opt, log: opt.Logger,
		base: New(Options{Logger: opt.Logger, Limits: opt.Limits, ServerName: opt.ServerName})}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// getMailTips is GetMailTipsType ([MS-OXWSMTIP]; docs/protocol.md §8.2): SendingAs,
// Recipients, MailTipsRequested. Matched by local name, as the
// availability request is.
type getMailTips struct {
	SendingAs struct {
		EmailAddress string `xml:"EmailAddress"`
	} `xml:"SendingAs"`
	Recipients *struct {
		Mailbox []emailAddress `xml:"Mailbox"`
	} `xml:"Recipients"`
	MailTipsRequested *string `xml:"MailTipsRequested"`
}

// emailAddress is EmailAddressType, as far as GetMailTips uses it.
type emailAddress struct {
	Name         string `xml:"Name"`
	EmailAddress string `xml:"EmailAddress"`
	RoutingType  string `xml:"RoutingType"`
}

// mailTipsEnvelope collects the GetMailTips body. Every soap:Body's
// operation must be GetMailTips, or the request is not this handler's.
type mailTipsEnvelope struct {
	req   *getMailTips
	other bool
}

func (e *mailTipsEnvelope) Header(d *xml.Decoder, start xml.StartElement) error { return d.Skip() }

func (e *mailTipsEnvelope) Body(d *xml.Decoder, start xml.StartElement) error {
	if start.Name.Space != nsMessages || start.Name.Local != "GetMailTips" || e.req != nil {
		e.other = true
		return d.Skip()
	}
	e.req = &getMailTips{}
	if err := d.DecodeElement(e.req, &start); err != nil {
		return schemaError(err)
	}
	return nil
}

func (h *MailTipsHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		h.base.fault(rw, soap.V11, http.StatusMethodNotAllowed, faultf(ErrorInvalidRequest, "EWS requests are SOAP messages sent with POST."))
		return
	}
	body, err := soap.ReadRequest(r, h.opt.Limits)
	if err != nil {
		if errors.Is(err, soap.ErrTooLarge) {
			h.base.fault(rw, soap.V11, http.StatusInternalServerError, faultf(ErrorRequestStreamTooBig, "The request is larger than the %d bytes this server accepts.", h.base.limitBytes()))
			return
		}
		h.base.fault(rw, soap.V11, http.StatusBadRequest, faultf(ErrorInvalidRequest, "The request body could not be read."))
		return
	}
	env := &mailTipsEnvelope{}
	ver, err := soap.Decode(body, h.opt.Limits, env)
	if err != nil {
		var re *requestError
		switch {
		case errors.As(err, &re):
		case errors.Is(err, soap.ErrTooLarge):
			re = faultf(ErrorRequestStreamTooBig, "The request is larger than the %d bytes this server accepts.", h.base.limitBytes())
		default:
			re = faultf(ErrorSchemaValidation, "The request failed schema validation: %v", err)
		}
		h.base.fault(rw, ver, http.StatusInternalServerError, re)
		return
	}
	if env.req == nil || env.other {
		h.base.fault(rw, ver, http.StatusInternalServerError, faultf(ErrorInvalidRequest, "The request is not one GetMailTips operation."))
		return
	}
	caller, ok := identity.FromContext(r.Context())
	if !ok {
		h.log.Error("GetMailTips reached without an authenticated caller")
		h.base.fault(rw, ver, http.StatusInternalServerError, faultf(ErrorInternalServerError, "An internal server error occurred."))
		return
	}
	// A delegation token serves the operations of its offer only. docs/protocol.md §4.3.
	if caller.TokenID != "" && !strings.EqualFold(caller.Offer, offerMailTips) {
		h.log.Warn("GetMailTips with a token for another offer", "outcome", "denied", "offer", caller.Offer, "caller", caller.Domain)
		h.base.fault(rw, ver, http.StatusInternalServerError, faultf(ErrorAccessDenied, "Access is denied. Check credentials and try again."))
		return
	}
	start := time.Now()
	req := env.req
	if req.Recipients == nil || len(req.Recipients.Mailbox) == 0 {
		h.base.fault(rw, ver, http.StatusInternalServerError, faultf(ErrorInvalidRequest, "The request names no recipients."))
		return
	}
	if n := len(req.Recipients.Mailbox); n > h.opt.MaxRecipients {
		h.base.fault(rw, ver, http.StatusInternalServerError, faultf(ErrorInvalidRequest, "The request names %d recipients, more than the %d this server answers at once.", n, h.opt.MaxRecipients))
		return
	}
	// MailTipsRequested is required by the schema; without it, all.
	requested := mailtips.All
	if req.MailTipsRequested != nil {
		requested = mailtips.ParseTypes(*req.MailTipsRequested)
	}
	results := make([]mailtips.Result, len(req.Recipients.Mailbox))
	for i, m := range req.Recipients.Mailbox {
		results[i] = h.opt.MailTips.Recipient(r.Context(), caller, requested, strings.TrimSpace(m.EmailAddress))
	}
	out := soap.Envelope(ver, writeServerVersion, func(w *soap.Writer) {
		writeMailTipsResponse(w, req.Recipients.Mailbox, results)
	})
	soap.WriteResponse(rw, ver, http.StatusOK, out)
	h.log.Debug("GetMailTips", "caller", caller.Domain, "account", caller.Account, "recipients", len(results),
		"level", results[0].Level.String(), "bytes", len(out), "duration", time.Since(start))
}

// writeMailTipsResponse renders GetMailTipsResponseMessageType
// ([MS-OXWSMTIP]; docs/protocol.md §8.2): one MailTipsResponseMessageType per
// recipient, in request order, each holding a MailTips element whose
// children follow the MailTips type's sequence. Only the MailTips calfed
// knows and the caller may see are written. docs/protocol.md §8.2.
func writeMailTipsResponse(w *soap.Writer, asked []emailAddress, results []mailtips.Result) {
	w.Start("m:GetMailTipsResponse", "ResponseClass", "Success", "xmlns:m", nsMessages, "xmlns:t", nsTypes)
	w.Elem("m:ResponseCode", "NoError")
	w.Start("m:ResponseMessages")
	for i := range results {
		r := &results[i]
		w.Start("m:MailTipsResponseMessageType", "ResponseClass", "Success")
		w.Elem("m:ResponseCode", "NoError")
		w.Start("m:MailTips")
		w.Start("t:RecipientAddress")
		if asked[i].Name != "" {
			w.Elem("t:Name", asked[i].Name)
		}
		w.Elem("t:EmailAddress", r.Address)
		w.Elem("t:RoutingType", "SMTP")
		w.End("t:RecipientAddress")
		w.Empty("t:PendingMailTips") // every tip is answered at once
		if r.Set&mailtips.OutOfOfficeMessage != 0 {
			w.Start("t:OutOfOffice")
			w.Start("t:ReplyBody")
			w.Elem("t:Message", r.OutOfOffice.Message)
			w.End("t:ReplyBody")
			if o := r.OutOfOffice; !o.Start.IsZero() && !o.End.IsZero() {
				w.Start("t:Duration")
				w.Elem("t:StartTime", o.Start.UTC().Format("2006-01-02T15:04:05Z"))
				w.Elem("t:EndTime", o.End.UTC().Format("2006-01-02T15:04:05Z"))
				w.End("t:Duration")
			}
			w.End("t:OutOfOffice")
		}
		if r.Set&mailtips.CustomMailTip != 0 {
			w.Elem("t:CustomMailTip", r.CustomMailTip)
		}
		if r.Set&mailtips.TotalMemberCount != 0 {
			w.ElemInt("t:TotalMemberCount", r.TotalMembers)
		}
		if r.Set&mailtips.ExternalMemberCount != 0 {
			w.ElemInt("t:ExternalMemberCount", r.ExternalMembers)
		}
		if r.Set&mailtips.InvalidRecipient != 0 {
			w.ElemBool("t:InvalidRecipient", r.InvalidRecipient)
		}
		w.End("m:MailTips")
		w.End("m:MailTipsResponseMessageType")
	}
	w.End("m:ResponseMessages")
	w.End("m:GetMailTipsResponse")
}

package ews

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/accesslog"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/soap"
)

// FreeBusy answers one mailbox of a free/busy query (*freebusy.Service):
// access, calendar, view and redaction are decided there.
type FreeBusy interface {
	Mailbox(ctx context.Context, caller identity.Caller, q *freebusy.Query, address string) freebusy.Result
}

// Options configure a Handler. FreeBusy is required; the other fields
// default as documented.
type Options struct {
	FreeBusy      FreeBusy
	Logger        *slog.Logger // nil discards
	Limits        soap.Limits  // request size, depth and element count
	MaxMailboxes  int          // per request; default 100 (MaximumIdentityArraySize)
	MaxWindowDays int          // default 62 (MaximumQueryIntervalDays)
	ServerName    string       // ExceptionServerName; default "calfed"
	// ResolveLegacyDN maps a legacy DN calfed handed out (Autodiscover's
	// LegacyDN and UserDN) to its mailbox's address, for mailboxes asked
	// about with RoutingType EX or as X500: addresses. Nil: such addresses
	// are looked up as given (and not found).
	ResolveLegacyDN func(dn string) (address string, ok bool)
	Now             func() time.Time // default time.Now
}

// Handler serves EWS requests.
type Handler struct {
	opt Options
	log *slog.Logger
}

// New returns a Handler.
func New(opt Options) *Handler {
	if opt.MaxMailboxes <= 0 {
		opt.MaxMailboxes = 100
	}
	if opt.MaxWindowDays <= 0 {
		opt.MaxWindowDays = 62
	}
	if opt.ServerName == "" {
		opt.ServerName = "calfed"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	h := &Handler{opt: opt, log: opt.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

func (h *Handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		h.fault(rw, soap.V11, http.StatusMethodNotAllowed, faultf(ErrorInvalidRequest, "EWS requests are SOAP messages sent with POST."))
		return
	}
	body, err := soap.ReadRequest(r, h.opt.Limits)
	if err != nil {
		if errors.Is(err, soap.ErrTooLarge) {
			h.fault(rw, soap.V11, http.StatusInternalServerError, faultf(ErrorRequestStreamTooBig, "The request is larger than the %d bytes this server accepts.", h.limitBytes()))
			return
		}
		h.log.Warn("reading request body", "err", err)
		h.fault(rw, soap.V11, http.StatusBadRequest, faultf(ErrorInvalidRequest, "The request body could not be read."))
		return
	}
	env, ver, ok := decodeAvailability(body, h.opt.Limits)
	if !ok {
		env = &envelope{}
		ver, err = soap.Decode(body, h.opt.Limits, env)
	}
	if err != nil {
		var re *requestError
		switch {
		case errors.As(err, &re):
		case errors.Is(err, soap.ErrTooLarge):
			re = faultf(ErrorRequestStreamTooBig, "The request is larger than the %d bytes this server accepts.", h.limitBytes())
		default:
			re = faultf(ErrorSchemaValidation, "The request failed schema validation: %v", err)
			h.log.Info("malformed EWS request", "remote", r.RemoteAddr, "err", err)
		}
		h.fault(rw, ver, http.StatusInternalServerError, re)
		return
	}
	caller, ok := identity.FromContext(r.Context())
	if !ok {
		h.log.Error("EWS handler reached without an authenticated caller")
		h.fault(rw, ver, http.StatusInternalServerError, faultf(ErrorInternalServerError, "An internal server error occurred."))
		return
	}
	switch {
	case env.gua != nil:
		h.serveAvailability(rw, r.Context(), ver, env, caller)
	case env.gstz != nil:
		h.serveTimeZones(rw, ver, env.gstz)
	case env.op.Space == nsMessages:
		h.serveUnsupported(rw, ver, env.op.Local)
	default:
		h.fault(rw, ver, http.StatusInternalServerError, faultf(ErrorInvalidRequest, "The request names no EWS operation ({%s}%s).", env.op.Space, env.op.Local))
	}
}

func (h *Handler) limitBytes() int64 {
	if h.opt.Limits.MaxBytes > 0 {
		return h.opt.Limits.MaxBytes
	}
	return soap.DefaultMaxBytes
}

func (h *Handler) serveAvailability(rw http.ResponseWriter, ctx context.Context, ver soap.Version, env *envelope, caller identity.Caller) {
	start := time.Now()
	q, rerr := h.validate(env)
	if rerr != nil {
		h.fault(rw, ver, http.StatusInternalServerError, rerr)
		return
	}
	// From here on nothing fails: every mailbox's problem is its own
	// ResponseMessage. A large answer may be sent as it is written.
	out := newAnswer(rw, ver.ContentType())
	soap.EnvelopeHead(&out.Writer, ver, writeServerVersion)
	out.Start("GetUserAvailabilityResponse", "xmlns", nsMessages)
	if q.freeBusy {
		out.Start("FreeBusyResponseArray")
		h.writeMailboxes(out, ctx, caller, q)
		out.End("FreeBusyResponseArray")
	}
	h.writeSuggestions(&out.Writer, q)
	out.End("GetUserAvailabilityResponse")
	soap.EnvelopeTail(&out.Writer)
	size := out.finish()
	h.log.Debug("GetUserAvailability", "caller", caller.Domain, "account", caller.Account, "mailboxes", len(q.Mailboxes),
		"view", q.View.String(), "bytes", size, "duration", time.Since(start))
}

// writeMailboxes answers every mailbox and writes its FreeBusyResponse
// into out, in request order. A single mailbox is answered, then written
// straight into out. Several are answered and rendered in parallel, each
// into its own part, spreading the work over the available processors
// (a 100-mailbox, 62-day detailed answer is tens of megabytes of XML),
// then added to out in order.
func (h *Handler) writeMailboxes(out *part, ctx context.Context, caller identity.Caller, q *query) {
	if len(q.Mailboxes) == 1 {
		r := h.opt.FreeBusy.Mailbox(ctx, caller, &q.Query, q.Mailboxes[0])
		h.writeFreeBusyResponse(out, q, &r)
		r.Release()
		return
	}
	rendered := make([]*part, len(q.Mailboxes))
	freebusy.Parallel(len(rendered), func(i int) {
		r := h.opt.FreeBusy.Mailbox(ctx, caller, &q.Query, q.Mailboxes[i])
		p := newPart()
		h.writeFreeBusyResponse(p, q, &r)
		r.Release()
		rendered[i] = p
	})
	for _, p := range rendered {
		out.add(p)
	}
}

// serveUnsupported answers an EWS operation calfed does not implement with
// a request-level ErrorInvalidOperation fault. Every EWS client turns such
// a fault into its error for the code, whatever the operation: exchangelib
// raises ErrorInvalidOperation and ews-javascript-api rejects with the
// fault's ResponseCode, where a response message would have to take each
// operation's own shape (GetUserOofSettings, for one, answers with a bare
// ResponseMessage beside OofSettings). ErrorInvalidOperation, not
// ErrorInvalidRequest, which exchangelib takes for a version mismatch and
// retries with every other schema version. The fault keeps the
// ServerVersionInfo header, which exchangelib reads first.
func (h *Handler) serveUnsupported(rw http.ResponseWriter, ver soap.Version, op string) {
	op = strings.TrimSuffix(op, "Request")
	h.fault(rw, ver, http.StatusInternalServerError, faultf(ErrorInvalidOperation,
		"The operation %s is not supported by this server; it answers GetUserAvailability and GetServerTimeZones.", op))
}

// fault renders a request-level error: a SOAP fault whose subcode is the
// EWS code, with the detail both EWS clients and Exchange's availability
// client read (ResponseCode and Message in the errors namespace, the
// numeric ErrorCode in the messages namespace). docs/protocol.md §1.7.
func (h *Handler) fault(rw http.ResponseWriter, ver soap.Version, status int, e *requestError) {
	accesslog.FailResponse(rw, e.Code.Name+": "+e.Message)
	code := "Sender"
	if e.Code == ErrorInternalServerError {
		code = "Receiver"
	}
	f := soap.Fault{Code: code, SubcodeNS: nsTypes, Subcode: e.Code.Name, Reason: e.Message,
		Detail: func(w *soap.Writer) {
			w.Elem("e:ResponseCode", e.Code.Name, "xmlns:e", nsErrors)
			w.Elem("e:Message", e.Message, "xmlns:e", nsErrors)
			if e.Code.Number != 0 {
				w.Start("ErrorCode", "xmlns", nsMessages)
				w.Text(itoa(e.Code.Number))
				w.End("ErrorCode")
			}
		}}
	soap.WriteResponse(rw, ver, status, f.Write(ver, writeServerVersion))
}

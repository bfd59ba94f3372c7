package ews

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	"github.com/calfed/calfed/internal/soap"
)

// Client asks an EWS endpoint for free/busy: GetUserAvailability built
// from the same wire types the handler decodes. Partners are asked with a
// delegation token in the request's wsse:Security header (docs/protocol.md §4.1).
type Client struct {
	HTTP *http.Client // default: 30-second timeout
	// Limits bound the response: size, depth, element count. The default
	// allows 64 MiB (a thousand mailboxes' worth of events).
	Limits soap.Limits
}

// RequestHeader is what a request's soap:Header carries.
type RequestHeader struct {
	// ServerVersion is RequestServerVersion/@Version; default Exchange2012.
	ServerVersion string
	// RequestType is RequestTypeHeader/RequestType: CrossForest when
	// asking as an organisation ([MS-OXWAVLS] 2.2.3.2); empty omits it.
	RequestType string
	// Token, when set, is a delegation token (an xenc:EncryptedData element
	// declaring its namespaces), sent in wsse:Security.
	Token []byte
}

// ErrResponse: the endpoint answered, but not with a usable
// GetUserAvailabilityResponse.
var ErrResponse = errors.New("ews: unusable GetUserAvailability response")

// GetUserAvailability posts req to url and reads the answer. Per-mailbox
// errors are ResponseMessages in the result; an error means there is no
// result (transport, HTTP status, SOAP fault, undecodable answer).
func (c *Client) GetUserAvailability(ctx context.Context, url string, h RequestHeader, req *GetUserAvailabilityRequest) (*GetUserAvailabilityResponse, error) {
	body := soap.Envelope(soap.V11, func(w *soap.Writer) { writeRequestHeader(w, h) }, func(w *soap.Writer) { writeGetUserAvailability(w, req) })
	l := c.Limits
	if l.MaxBytes <= 0 {
		l.MaxBytes = 64 << 20
	}
	if l.MaxElements <= 0 {
		l.MaxElements = 2_000_000
	}
	data, err := soap.Post(ctx, c.HTTP, url, body, l)
	if err != nil {
		return nil, err
	}
	var out responseEnvelope
	if _, err := soap.Decode(data, l, &out); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrResponse, err)
	}
	if out.gua == nil {
		return nil, fmt.Errorf("%w: the body is {%s}%s", ErrResponse, out.op.Space, out.op.Local)
	}
	return out.gua, nil
}

// responseEnvelope collects the answer's body.
type responseEnvelope struct {
	op  xml.Name
	gua *GetUserAvailabilityResponse
}

func (e *responseEnvelope) Header(d *xml.Decoder, start xml.StartElement) error { return d.Skip() }

func (e *responseEnvelope) Body(d *xml.Decoder, start xml.StartElement) error {
	e.op = start.Name
	if start.Name.Space != nsMessages || start.Name.Local != "GetUserAvailabilityResponse" {
		return d.Skip()
	}
	e.gua = &GetUserAvailabilityResponse{}
	return d.DecodeElement(e.gua, &start)
}

func writeRequestHeader(w *soap.Writer, h RequestHeader) {
	v := h.ServerVersion
	if v == "" {
		v = "Exchange2012"
	}
	w.Empty("t:RequestServerVersion", "xmlns:t", nsTypes, "Version", v)
	if h.RequestType != "" {
		w.Start("t:RequestTypeHeader", "xmlns:t", nsTypes)
		w.Elem("t:RequestType", h.RequestType)
		w.End("t:RequestTypeHeader")
	}
	if h.Token != nil {
		w.Start("o:Security", "xmlns:o", nsWSSE, "s:mustUnderstand", "1")
		w.Raw(h.Token)
		w.End("o:Security")
	}
}

// nsWSSE is WS-Security's namespace, for the token header.
const nsWSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"

// writeGetUserAvailability writes req in its canonical form: the request
// element in the messages namespace, everything in it in the types
// namespace except MailboxDataArray ([XSD] messages.xsd).
func writeGetUserAvailability(w *soap.Writer, r *GetUserAvailabilityRequest) {
	w.Start("m:GetUserAvailabilityRequest", "xmlns:m", nsMessages, "xmlns:t", nsTypes)
	if tz := r.TimeZone; tz != nil {
		w.Start("t:TimeZone")
		w.ElemInt("t:Bias", tz.Bias)
		for _, p := range []struct {
			name string
			t    *SerializableTimeZoneTime
		}{{"t:StandardTime", tz.StandardTime}, {"t:DaylightTime", tz.DaylightTime}} {
			if p.t == nil {
				continue
			}
			w.Start(p.name)
			w.ElemInt("t:Bias", p.t.Bias)
			w.Elem("t:Time", p.t.Time)
			w.ElemInt("t:DayOrder", p.t.DayOrder)
			w.ElemInt("t:Month", p.t.Month)
			w.Elem("t:DayOfWeek", p.t.DayOfWeek)
			if p.t.Year != "" {
				w.Elem("t:Year", p.t.Year)
			}
			w.End(p.name)
		}
		w.End("t:TimeZone")
	}
	if r.MailboxDataArray != nil {
		w.Start("m:MailboxDataArray")
		for _, md := range r.MailboxDataArray.MailboxData {
			w.Start("t:MailboxData")
			w.Start("t:Email")
			if md.Email.Name != "" {
				w.Elem("t:Name", md.Email.Name)
			}
			w.Elem("t:Address", md.Email.Address)
			if md.Email.RoutingType != "" {
				w.Elem("t:RoutingType", md.Email.RoutingType)
			}
			w.End("t:Email")
			if md.AttendeeType != "" {
				w.Elem("t:AttendeeType", md.AttendeeType)
			}
			if md.ExcludeConflicts != "" {
				w.Elem("t:ExcludeConflicts", md.ExcludeConflicts)
			}
			w.End("t:MailboxData")
		}
		w.End("m:MailboxDataArray")
	}
	if o := r.FreeBusyViewOptions; o != nil {
		w.Start("t:FreeBusyViewOptions")
		if tw := o.TimeWindow; tw != nil {
			w.Start("t:TimeWindow")
			if tw.StartTime != nil {
				w.Elem("t:StartTime", *tw.StartTime)
			}
			if tw.EndTime != nil {
				w.Elem("t:EndTime", *tw.EndTime)
			}
			w.End("t:TimeWindow")
		}
		if o.MergedFreeBusyIntervalInMinutes != nil {
			w.Elem("t:MergedFreeBusyIntervalInMinutes", *o.MergedFreeBusyIntervalInMinutes)
		}
		if o.RequestedView != nil {
			w.Elem("t:RequestedView", *o.RequestedView)
		}
		w.End("t:FreeBusyViewOptions")
	}
	if r.SuggestionsViewOptions != nil {
		w.Empty("t:SuggestionsViewOptions")
	}
	w.End("m:GetUserAvailabilityRequest")
}

// UTCTimeZone is the legacy time zone of a request asked in UTC.
func UTCTimeZone() *SerializableTimeZone {
	t := func() *SerializableTimeZoneTime {
		return &SerializableTimeZoneTime{Time: "00:00:00", DayOfWeek: "Sunday"}
	}
	return &SerializableTimeZone{StandardTime: t(), DaylightTime: t()}
}

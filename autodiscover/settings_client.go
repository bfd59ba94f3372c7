package autodiscover

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	"github.com/calfed/calfed/internal/soap"
)

// Client asks a SOAP Autodiscover endpoint for user settings, built from
// the same wire types the handler decodes. Partners are asked at their
// /WSSecurity endpoint with a delegation token (docs/protocol.md §2.3, §4.1).
type Client struct {
	HTTP   *http.Client // default: 30-second timeout
	Limits soap.Limits  // bound the response; zero: soap's defaults
}

// ErrResponse: the endpoint answered, but not with a usable
// GetUserSettingsResponseMessage.
var ErrResponse = errors.New("autodiscover: unusable GetUserSettings response")

// GetUserSettings posts req to url, with token (an xenc:EncryptedData
// element declaring its namespaces) in wsse:Security when it is not nil.
// Per-user errors are in the result.
func (c *Client) GetUserSettings(ctx context.Context, url string, token []byte, req *GetUserSettingsRequest) (*GetUserSettingsResponse, error) {
	body := soap.Envelope(soap.V11, func(w *soap.Writer) {
		w.Elem("ad:RequestedServerVersion", "Exchange2010", "xmlns:ad", nsAutodiscover)
		if token != nil {
			w.Start("o:Security", "xmlns:o", nsWSSE, "s:mustUnderstand", "1")
			w.Raw(token)
			w.End("o:Security")
		}
	}, func(w *soap.Writer) { writeGetUserSettings(w, req) })
	data, err := soap.Post(ctx, c.HTTP, url, body, c.Limits)
	if err != nil {
		return nil, err
	}
	return decodeResponse[GetUserSettingsResponse](data, c.Limits, "GetUserSettingsResponseMessage")
}

// nsWSSE is WS-Security's namespace, for the token header.
const nsWSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"

// writeGetUserSettings writes req in its canonical form, everything in the
// Autodiscover namespace.
func writeGetUserSettings(w *soap.Writer, r *GetUserSettingsRequest) {
	w.Start("GetUserSettingsRequestMessage", "xmlns", nsAutodiscover)
	w.Start("Request")
	w.Start("Users")
	for _, u := range r.Users {
		w.Start("User")
		w.Elem("Mailbox", u)
		w.End("User")
	}
	w.End("Users")
	w.Start("RequestedSettings")
	for _, s := range r.Settings {
		w.Elem("Setting", s)
	}
	w.End("RequestedSettings")
	if r.Version != "" {
		w.Elem("RequestedVersion", r.Version)
	}
	w.End("Request")
	w.End("GetUserSettingsRequestMessage")
}

// decodeResponse reads an Autodiscover answer whose body must be the
// element named local, in the Autodiscover namespace, decoded into a T.
func decodeResponse[T any](data []byte, limits soap.Limits, local string) (*T, error) {
	out := responseBody[T]{local: local}
	if _, err := soap.Decode(data, limits, &out); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrResponse, err)
	}
	if out.resp == nil {
		return nil, fmt.Errorf("%w: the body is {%s}%s", ErrResponse, out.op.Space, out.op.Local)
	}
	return out.resp, nil
}

// responseBody collects an answer's body for decodeResponse.
type responseBody[T any] struct {
	local string
	op    xml.Name
	resp  *T
}

func (e *responseBody[T]) Header(d *xml.Decoder, start xml.StartElement) error { return d.Skip() }

func (e *responseBody[T]) Body(d *xml.Decoder, start xml.StartElement) error {
	e.op = start.Name
	if start.Name.Space != nsAutodiscover || start.Name.Local != e.local {
		return d.Skip()
	}
	e.resp = new(T)
	return d.DecodeElement(e.resp, &start)
}

package autodiscover

import (
	"encoding/xml"
	"strings"

	"github.com/calfed/calfed/internal/soap"
)

// Namespaces. docs/protocol.md §0, §3.
const (
	nsAutodiscover = "http://schemas.microsoft.com/exchange/2010/Autodiscover"
	nsAddressing   = "http://www.w3.org/2005/08/addressing"
	nsXSI          = "http://www.w3.org/2001/XMLSchema-instance"
	actionPrefix   = "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/"

	nsPOXRequest        = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
	nsPOXMobileRequest  = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"
	nsPOXResponse       = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	nsPOXOutlook        = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
	nsPOXMobileResponse = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
)

// request is a SOAP Autodiscover request: the WS-Addressing headers and
// one of the four operations. Element names are matched by local name.
type request struct {
	messageID string
	action    string
	op        string // body element local name, e.g. GetUserSettingsRequestMessage
	opSpace   string
	fedInfo   *struct {
		Domain *string `xml:"Request>Domain"`
	}
	userSettings *GetUserSettingsRequest
	orgRel       *struct {
		Domains []string `xml:"Request>Domains>Domain"`
	}
	domainSettings *struct {
		Domains  []string `xml:"Request>Domains>Domain"`
		Settings []string `xml:"Request>RequestedSettings>Setting"`
		Version  string   `xml:"Request>RequestedVersion"`
	}
}

func (r *request) Header(d *xml.Decoder, start xml.StartElement) error {
	if start.Name.Space != nsAddressing {
		return d.Skip()
	}
	var v string
	switch start.Name.Local {
	case "MessageID":
		if err := d.DecodeElement(&v, &start); err != nil {
			return err
		}
		r.messageID = strings.TrimSpace(v)
		return nil
	case "Action":
		if err := d.DecodeElement(&v, &start); err != nil {
			return err
		}
		r.action = strings.TrimSpace(v)
		return nil
	}
	return d.Skip()
}

func (r *request) Body(d *xml.Decoder, start xml.StartElement) error {
	r.op, r.opSpace = start.Name.Local, start.Name.Space
	if start.Name.Space != nsAutodiscover {
		return d.Skip()
	}
	switch start.Name.Local {
	case "GetFederationInformationRequestMessage":
		r.fedInfo = &struct {
			Domain *string `xml:"Request>Domain"`
		}{}
		return d.DecodeElement(r.fedInfo, &start)
	case "GetUserSettingsRequestMessage":
		r.userSettings = &GetUserSettingsRequest{}
		return d.DecodeElement(r.userSettings, &start)
	case "GetOrganizationRelationshipSettingsRequestMessage":
		r.orgRel = &struct {
			Domains []string `xml:"Request>Domains>Domain"`
		}{}
		return d.DecodeElement(r.orgRel, &start)
	case "GetDomainSettingsRequestMessage":
		r.domainSettings = &struct {
			Domains  []string `xml:"Request>Domains>Domain"`
			Settings []string `xml:"Request>RequestedSettings>Setting"`
			Version  string   `xml:"Request>RequestedVersion"`
		}{}
		return d.DecodeElement(r.domainSettings, &start)
	}
	return d.Skip()
}

var _ soap.Handler = (*request)(nil)

// GetUserSettingsRequest is GetUserSettingsRequestMessage
// ([MS-OXWSADISC] 3.1.4.6.2.1): the handler decodes requests into it and
// Client sends it.
type GetUserSettingsRequest struct {
	Users    []string `xml:"Request>Users>User>Mailbox"`
	Settings []string `xml:"Request>RequestedSettings>Setting"`
	Version  string   `xml:"Request>RequestedVersion"`
}

// GetUserSettingsResponse is GetUserSettingsResponseMessage
// ([MS-OXWSADISC] 3.1.4.6.2.2), as Client reads it.
type GetUserSettingsResponse struct {
	ErrorCode     string         `xml:"Response>ErrorCode"`
	ErrorMessage  string         `xml:"Response>ErrorMessage"`
	UserResponses []UserResponse `xml:"Response>UserResponses>UserResponse"`
}

// UserResponse is UserResponse ([MS-OXWSADISC] 2.2.4.x): one user's
// settings, in request order.
type UserResponse struct {
	ErrorCode      string        `xml:"ErrorCode"`
	ErrorMessage   string        `xml:"ErrorMessage"`
	RedirectTarget string        `xml:"RedirectTarget"`
	Settings       []UserSetting `xml:"UserSettings>UserSetting"`
}

// UserSetting is StringSetting, the only kind calfed asks for.
type UserSetting struct {
	Name  string `xml:"Name"`
	Value string `xml:"Value"`
}

// Setting returns the value of the setting name, or "".
func (u *UserResponse) Setting(name string) string {
	for _, s := range u.Settings {
		if s.Name == name {
			return s.Value
		}
	}
	return ""
}

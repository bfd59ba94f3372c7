package autodiscover

import (
	"context"
	"fmt"

	"github.com/calfed/calfed/internal/soap"
)

// OrganizationRelationshipSettings is one OrganizationRelationshipSettings
// of a GetOrganizationRelationshipSettings answer: the partner's
// relationship with the domains asked about. docs/protocol.md §2.4.
type OrganizationRelationshipSettings struct {
	Name                  string   `xml:"Name" json:"name"`
	DomainNames           []string `xml:"DomainNames>Domain" json:"domain_names"`
	FreeBusyAccessEnabled bool     `xml:"FreeBusyAccessEnabled" json:"free_busy_access_enabled"`
	FreeBusyAccessLevel   string   `xml:"FreeBusyAccessLevel" json:"free_busy_access_level"`
	MailTipsAccessEnabled bool     `xml:"MailTipsAccessEnabled" json:"mail_tips_access_enabled"`
	MailTipsAccessLevel   string   `xml:"MailTipsAccessLevel" json:"mail_tips_access_level"`
	TargetApplicationURI  string   `xml:"TargetApplicationUri" json:"target_application_uri"`
	TargetAutodiscoverEPR string   `xml:"TargetAutodiscoverEpr" json:"target_autodiscover_epr"`
	TargetSharingEPR      string   `xml:"TargetSharingEpr" json:"target_sharing_epr"`
}

// orgRelResponse is GetOrganizationRelationshipSettingsResponseMessage.
type orgRelResponse struct {
	ErrorCode    string                             `xml:"Response>ErrorCode"`
	ErrorMessage string                             `xml:"Response>ErrorMessage"`
	Settings     []OrganizationRelationshipSettings `xml:"Response>OrganizationRelationshipSettingsCollection>OrganizationRelationshipSettings"`
}

// GetOrganizationRelationshipSettings asks the partner at url (its
// Autodiscover /WSSecurity) for its relationships with domains, with a
// delegation token for the Autodiscover offer, as
// Test-OrganizationRelationship does. docs/protocol.md §2.4.
func (c *Client) GetOrganizationRelationshipSettings(ctx context.Context, url string, token []byte, domains []string) ([]OrganizationRelationshipSettings, error) {
	body := soap.Envelope(soap.V11, func(w *soap.Writer) {
		w.Start("o:Security", "xmlns:o", nsWSSE, "s:mustUnderstand", "1")
		w.Raw(token)
		w.End("o:Security")
	}, func(w *soap.Writer) {
		w.Start("GetOrganizationRelationshipSettingsRequestMessage", "xmlns", nsAutodiscover)
		w.Start("Request")
		w.Start("Domains")
		for _, d := range domains {
			w.Elem("Domain", d)
		}
		w.End("Domains")
		w.End("Request")
		w.End("GetOrganizationRelationshipSettingsRequestMessage")
	})
	data, err := soap.PostAction(ctx, c.HTTP, url, actionPrefix+"GetOrganizationRelationshipSettings", body, c.Limits)
	if err != nil {
		return nil, err
	}
	resp, err := decodeResponse[orgRelResponse](data, c.Limits, "GetOrganizationRelationshipSettingsResponseMessage")
	if err != nil {
		return nil, err
	}
	if resp.ErrorCode != "NoError" {
		return nil, fmt.Errorf("%w: %s: %s", ErrResponse, resp.ErrorCode, resp.ErrorMessage)
	}
	return resp.Settings, nil
}

package autodiscover

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/soap"
)

// The client's GetOrganizationRelationshipSettings is what the handler
// reads, and the handler's answer what the client reads: the caller's
// own relationship, and nothing about domains that are not the caller's.
func TestOrganizationRelationshipSettingsAgainstHandler(t *testing.T) {
	h := fixture(nil).SOAP(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := soap.ReadRequest(r, soap.Limits{})
		r2 := httptest.NewRequest(http.MethodPost, "/autodiscover/autodiscover.svc/WSSecurity", strings.NewReader(string(body)))
		h.ServeHTTP(w, r2.WithContext(identity.NewContext(r.Context(), partner)))
	}))
	defer srv.Close()
	c := &Client{}
	got, err := c.GetOrganizationRelationshipSettings(context.Background(), srv.URL, []byte(`<e:EncryptedData xmlns:e="http://www.w3.org/2001/04/xmlenc#"/>`), []string{"partner.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "Partner" || !got[0].FreeBusyAccessEnabled || got[0].FreeBusyAccessLevel != "LimitedDetails" ||
		got[0].TargetApplicationURI != "FYDIBOHF25SPDLT.partner.example" || len(got[0].DomainNames) != 1 || got[0].DomainNames[0] != "partner.example" {
		t.Errorf("GetOrganizationRelationshipSettings(partner.example) = %+v", got)
	}
	got, err = c.GetOrganizationRelationshipSettings(context.Background(), srv.URL, []byte(`<e:EncryptedData xmlns:e="http://www.w3.org/2001/04/xmlenc#"/>`), []string{"nobody.example"})
	if err != nil || len(got) != 0 {
		t.Errorf("GetOrganizationRelationshipSettings(nobody.example) = %+v, %v; want none", got, err)
	}
}

// Without a token the handler answers 401, which the client reports as
// the status it got.
func TestOrganizationRelationshipSettingsRefused(t *testing.T) {
	srv := httptest.NewServer(fixture(nil).SOAP(true))
	defer srv.Close()
	_, err := (&Client{}).GetOrganizationRelationshipSettings(context.Background(), srv.URL, []byte(`<x/>`), []string{"partner.example"})
	var se *soap.StatusError
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Errorf("GetOrganizationRelationshipSettings without a caller = %v, want HTTP 401", err)
	}
}

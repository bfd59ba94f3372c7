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

// The client's request is what the handler reads, and the handler's answer
// is what the client reads.
func TestClientAgainstHandler(t *testing.T) {
	h := fixture(nil).SOAP(true)
	var sawToken bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := soap.ReadRequest(r, soap.Limits{})
		sawToken = strings.Contains(string(body), `<e:EncryptedData xmlns:e="http://www.w3.org/2001/04/xmlenc#"/>`)
		r2 := httptest.NewRequest(http.MethodPost, "/autodiscover/autodiscover.svc/WSSecurity", strings.NewReader(string(body)))
		r2 = r2.WithContext(identity.NewContext(r.Context(), partner))
		h.ServeHTTP(w, r2)
	}))
	defer srv.Close()
	resp, err := (&Client{}).GetUserSettings(context.Background(), srv.URL, []byte(`<e:EncryptedData xmlns:e="http://www.w3.org/2001/04/xmlenc#"/>`),
		&GetUserSettingsRequest{Users: []string{"bob@fabrikam.example", "secret@fabrikam.example"}, Settings: []string{"ExternalEwsUrl", "UserDisplayName"}, Version: "Exchange2010"})
	if err != nil {
		t.Fatal(err)
	}
	if !sawToken {
		t.Errorf("the token was not sent")
	}
	if resp.ErrorCode != "NoError" || len(resp.UserResponses) != 2 {
		t.Fatalf("GetUserSettings = %+v", resp)
	}
	bob, secret := resp.UserResponses[0], resp.UserResponses[1]
	if bob.ErrorCode != "NoError" || bob.Setting("ExternalEwsUrl") != "https://mail.fabrikam.example/EWS/Exchange.asmx" || bob.Setting("UserDisplayName") != "Bob" {
		t.Errorf("bob: %+v", bob)
	}
	if secret.ErrorCode != "InvalidUser" || len(secret.Settings) != 0 {
		t.Errorf("secret: %+v", secret)
	}
}

func TestClientErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"another operation", 200, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/></s:Body></s:Envelope>`, ErrResponse},
		{"not XML", 200, `<<<`, ErrResponse},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			if _, err := (&Client{}).GetUserSettings(context.Background(), srv.URL, nil, &GetUserSettingsRequest{}); !errors.Is(err, tt.want) {
				t.Errorf("GetUserSettings = %v, want %v", err, tt.want)
			}
		})
	}
}

// Any response body is read or refused without a panic.
func FuzzGetUserSettingsResponse(f *testing.F) {
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><UserResponses><UserResponse><ErrorCode>NoError</ErrorCode><UserSettings><UserSetting><Name>ExternalEwsUrl</Name><Value>https://x/</Value></UserSetting></UserSettings></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeResponse[GetUserSettingsResponse](data, soap.Limits{}, "GetUserSettingsResponseMessage")
	})
}

package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The router sends GetMailTips to its handler and everything else, too
// large or unreadable requests included, to the EWS handler as before.
func TestRoutingByOperation(t *testing.T) {
	srv := demoServer(t)
	envelope := func(body string) string {
		return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Body>` + body + `</s:Body></s:Envelope>`
	}
	gmt := envelope(`<m:GetMailTips><m:SendingAs><t:EmailAddress>kim@trust.example</t:EmailAddress></m:SendingAs><m:Recipients><t:Mailbox><t:EmailAddress>servicedesk@contoso.example</t:EmailAddress></t:Mailbox></m:Recipients><m:MailTipsRequested>All</m:MailTipsRequested></m:GetMailTips>`)
	huge := envelope(`<m:GetMailTips><m:SendingAs><t:EmailAddress>` + strings.Repeat("x", 2<<20) + `</t:EmailAddress></m:SendingAs></m:GetMailTips>`)
	post := func(account, body string, chunked bool) (int, string) {
		t.Helper()
		var rd io.Reader = strings.NewReader(body)
		if chunked {
			rd = io.MultiReader(rd) // no length: sent chunked
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/EWS/Exchange.asmx", rd)
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.SetBasicAuth(account, "router-test-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tt := range []struct {
		name, account, body string
		chunked             bool
		status              int
		want                string
	}{
		{"GetMailTips, All", "svc-trust", gmt, false, 200, "<t:CustomMailTip>The IT Service Desk answers within one working day.</t:CustomMailTip>"},
		{"GetMailTips, Limited", "svc-partner", gmt, false, 200, "<t:InvalidRecipient>false</t:InvalidRecipient></m:MailTips>"},
		{"GetMailTips sent chunked", "svc-trust", gmt, true, 200, "CustomMailTip"},
		{"too large", "svc-trust", huge, false, 500, "ErrorRequestStreamTooBig"},
		{"too large, sent chunked", "svc-trust", huge, true, 500, "ErrorRequestStreamTooBig"},
		{"another operation", "svc-trust", envelope(`<m:GetFolder/>`), false, 500, "<faultcode xmlns:a=\"http://schemas.microsoft.com/exchange/services/2006/types\">a:ErrorInvalidOperation</faultcode>"},
		{"not XML", "svc-trust", "<s:Envelope", false, 500, "ErrorSchemaValidation"},
	} {
		status, body := post(tt.account, tt.body, tt.chunked)
		if status != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d, want %d with %q\n%.1000s", tt.name, status, tt.status, tt.want, body)
		}
	}
}

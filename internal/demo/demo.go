// Package demo is the embedded demonstration organisation that calfed
// serve runs without a configuration: ten mailboxes whose calendars are
// laid out around one week, two partner organisations with their
// relationships and service accounts, in a fresh store for each run.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strings"
	"text/template"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/config"
	"github.com/calfed/calfed/orgrel"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
	"github.com/calfed/calfed/userauth"
)

//go:embed calfed.yaml orgrels.yaml calendars/*.ics
var files embed.FS

// SecretEnv sets the demo service accounts' secret; without it a random
// one is made at each start and printed.
const SecretEnv = "CALFED_DEMO_SECRET"

// AdminTokenEnv sets the demo admin API's token; without it a random one
// is made and printed.
const AdminTokenEnv = "CALFED_DEMO_ADMIN_TOKEN"

// Demo is one run of the demo.
type Demo struct {
	Config     *config.Config // its configuration, calendars in memory
	Secret     string         // both service accounts'
	AdminToken string
	// UserToken is Bob's app password for the free/busy fronts
	// (/freebusy/…), as calfed user token new would make it.
	UserToken string
	userHash  string
	Week      time.Time // the Monday the calendars are laid out around
	DataDir   string    // a fresh store for every run; Close removes it
	orgrels   admin.File
}

// accounts are the partners' service accounts; both get the demo
// secret.
var accounts = []struct{ name, relationship string }{
	{"svc-partner", "Partner"},
	{"svc-trust", "Trust"},
}

// New builds the embedded demo: its calendars are templates laid out
// around the Monday of week (YYYY-MM-DD; default this week, UTC).
func New(week string) (*Demo, error) {
	monday, err := mondayOf(week, time.Now())
	if err != nil {
		return nil, err
	}
	data, err := files.ReadFile("calfed.yaml")
	if err != nil {
		return nil, err
	}
	cfg, err := config.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("embedded demo: %w", err)
	}
	info := &Demo{Week: monday, Config: cfg}
	if info.Secret, err = envOrRandom(SecretEnv, 18); err != nil {
		return nil, err
	}
	if info.AdminToken, err = envOrRandom(AdminTokenEnv, 32); err != nil {
		return nil, err
	}
	if info.UserToken, _, info.userHash, err = userauth.NewToken(); err != nil {
		return nil, err
	}
	orgrels, err := files.ReadFile("orgrels.yaml")
	if err != nil {
		return nil, err
	}
	if info.orgrels, err = admin.ParseFile(orgrels); err != nil {
		return nil, fmt.Errorf("embedded demo orgrels.yaml: %w", err)
	}
	if info.DataDir, err = os.MkdirTemp("", "calfed-demo-"); err != nil {
		return nil, err
	}
	cfg.DataDir = info.DataDir
	rendered := map[string][]byte{}
	for _, m := range cfg.Mailboxes {
		out, err := render(m.Calendar, monday)
		if err != nil {
			return nil, err
		}
		rendered[m.Calendar] = out
	}
	cfg.Source = func(p string) calendar.Source { return calendar.StaticSource{Name: "demo/" + p, Data: rendered[p]} }
	return info, nil
}

// Close removes the demo's store.
func (d *Demo) Close() error { return os.RemoveAll(d.DataDir) }

func envOrRandom(env string, n int) (string, error) {
	if v := os.Getenv(env); v != "" {
		return v, nil
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Seed puts the demo's relationships and service accounts into its fresh
// store, as a federation engineer would, so the audit log shows them.
func (d *Demo) Seed(ctx context.Context, db *store.DB, tr *trust.Service, mailboxes []admin.Mailbox) error {
	const actor = "calfed demo"
	svc := admin.NewService(db, tr, mailboxes)
	if _, err := svc.Apply(ctx, actor, d.orgrels.Relationships, admin.ApplyOptions{}); err != nil {
		return fmt.Errorf("seeding the demo: %w", err)
	}
	// The Microsoft Federation Gateway's published names; the development
	// token issuer takes their place once token validation exists.
	if _, err := db.SetTrust(ctx, actor, orgrel.Trust{AccountNamespace: "contoso.example",
		TokenIssuerURI: "urn:federation:MicrosoftOnline", TokenIssuerEndpoint: "https://login.microsoftonline.com/extSTS.srf"}); err != nil {
		return fmt.Errorf("seeding the demo: %w", err)
	}
	hash, err := orgrel.HashSecret(d.Secret)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		if _, err := db.CreateAccount(ctx, actor, a.name, a.relationship, hash); err != nil {
			return fmt.Errorf("seeding the demo: %w", err)
		}
	}
	if _, err := db.CreateUserToken(ctx, actor, orgrel.UserToken{ID: "demo", Address: "bob@contoso.example", Label: "demo"}, d.userHash); err != nil {
		return fmt.Errorf("seeding the demo: %w", err)
	}
	return nil
}

func mondayOf(week string, now time.Time) (time.Time, error) {
	if week == "" {
		d := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)), nil
	}
	d, err := time.Parse("2006-01-02", week)
	if err != nil {
		return time.Time{}, fmt.Errorf("-demo-week: %q is not YYYY-MM-DD", week)
	}
	if d.Weekday() != time.Monday {
		return time.Time{}, fmt.Errorf("-demo-week: %s is a %s, not a Monday", week, d.Weekday())
	}
	return d, nil
}

func render(name string, monday time.Time) ([]byte, error) {
	src, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(template.FuncMap{
		"day": func(n int) string { return monday.AddDate(0, 0, n).Format("20060102") },
		"at": func(n int, hms string) string {
			return monday.AddDate(0, 0, n).Format("20060102") + "T" + hms
		},
	}).Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("embedded demo %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, nil); err != nil {
		return nil, fmt.Errorf("embedded demo %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// PrintWelcome tells a newcomer where everything is and how to ask.
func (d *Demo) PrintWelcome(w io.Writer, base, adminBase string) {
	url := base + "/EWS/Exchange.asmx"
	var addrs []string
	for _, m := range d.Config.Mailboxes {
		addrs = append(addrs, m.Address)
	}
	start := d.Week.Format("2006-01-02")
	end := d.Week.AddDate(0, 0, 7).Format("2006-01-02")
	fmt.Fprintf(w, `calfed demo: EWS at %s
  calendars laid out around the week of %s
  mailboxes: %s
  partners:  svc-partner (partner.example, availability only; MailTips Limited)
             svc-trust   (trust.example, subject and location for users who opted in; MailTips All)
  secret for both accounts: %s

Admin API at %s with token %s, e.g.
  calfed orgrel list -server %s -token %s

Ask for Alice's free/busy as trust.example:

curl -s -u 'svc-trust:%s' -H 'Content-Type: text/xml; charset=utf-8' %s --data '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Header><t:RequestServerVersion Version="Exchange2013_SP1"/><t:TimeZoneContext><t:TimeZoneDefinition Id="GMT Standard Time"/></t:TimeZoneContext></s:Header><s:Body><m:GetUserAvailabilityRequest><m:MailboxDataArray><t:MailboxData><t:Email><t:Address>alice@contoso.example</t:Address></t:Email><t:AttendeeType>Required</t:AttendeeType></t:MailboxData></m:MailboxDataArray><t:FreeBusyViewOptions><t:TimeWindow><t:StartTime>%sT00:00:00</t:StartTime><t:EndTime>%sT00:00:00</t:EndTime></t:TimeWindow><t:MergedFreeBusyIntervalInMinutes>60</t:MergedFreeBusyIntervalInMinutes><t:RequestedView>DetailedMerged</t:RequestedView></t:FreeBusyViewOptions></m:GetUserAvailabilityRequest></s:Body></s:Envelope>'

Bob, one of our users, sees Alice's free/busy as his calendar client would (his app password: %s):

curl -s -u 'bob@contoso.example:%s' '%s/freebusy/alice@contoso.example.vfb?start=%s&end=%s'
curl -s -H 'Authorization: Bearer %s' '%s/freebusy/v1/availability?attendee=alice@contoso.example&attendee=carol@contoso.example&start=%s&end=%s'

`, url, start, strings.Join(addrs, ", "), d.Secret, adminBase, d.AdminToken, adminBase, d.AdminToken, d.Secret, url, start, end,
		d.UserToken, d.UserToken, base, start, end, d.UserToken, base, start, end)
}

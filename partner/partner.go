// Package partner asks a partner organisation for free/busy on behalf of
// one of our users, as Exchange does (docs/protocol.md §4.1): a delegation token for
// Autodiscover, the partner's EWS URL from its GetUserSettings over
// /WSSecurity (or the relationship's TargetSharingEpr), a delegation token
// for free/busy, then GetUserAvailability; or, cross-forest, plain EWS
// with the account the partner gave us. Asker is how our users' questions
// reach partners (the free/busy core's Remote): each partner once per
// question, all at once, within a timeout, behind a circuit breaker and a
// short cache (docs/protocol.md §10.1). Results are data, free of the wire:
// the fronts answering our users serve them in any form.
package partner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/calfed/calfed/autodiscover"
	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/ews"
	"github.com/calfed/calfed/freebusy"
	"github.com/calfed/calfed/internal/fedtoken"
)

// Tokens obtains delegation tokens for our users (*delegation.Client):
// the token is an xenc:EncryptedData element declaring its namespaces.
type Tokens interface {
	Token(ctx context.Context, user, targetURI, offer string) ([]byte, error)
}

// Client asks partners for free/busy.
type Client struct {
	Tokens Tokens       // required
	HTTP   *http.Client // for Autodiscover and EWS; default: 30-second timeout
}

// Partner is where a partner organisation is, as our relationship with it
// records (New-OrganizationRelationship's Target* parameters).
type Partner struct {
	ApplicationURI  string
	AutodiscoverEPR string
	SharingEPR      string
}

// Query is what to ask: a free/busy question about the partner's
// mailboxes, asked for one of our users. View defaults to FreeBusyMerged
// and Interval to 30 minutes; Legacy asks as Exchange2010 would, for the
// legacy merged digits.
type Query struct {
	User string // ours, on whose behalf we ask
	freebusy.Query
}

// Result is one mailbox's part of the answer, in query order.
type Result struct {
	Mailbox string
	// Code is NoError, or the partner's response code for this mailbox
	// (ErrorMailRecipientNotFound, ErrorNoFreeBusyAccess, …); Message is
	// its text.
	Code    string
	Message string
	View    freebusy.View // what the partner returned; ViewNone on error
	Merged  string        // one digit per interval, when the view has it
	Busy    []BusyPeriod
	// WorkingHours and Zone are the mailbox's working hours (its first
	// working period) and zone, when the partner gave them and they can
	// be read.
	WorkingHours *calendar.WorkingHours
	Zone         *time.Location
}

// BusyPeriod is one calendar event of a result. Subject and Location are
// empty unless the view is detailed and the event is not private.
type BusyPeriod struct {
	Start    time.Time
	End      time.Time
	Busy     calendar.BusyType
	Subject  string
	Location string
	Private  bool
}

// Errors; match with errors.Is.
var (
	ErrNoMailbox  = errors.New("partner: no mailbox to ask about")
	ErrNoEndpoint = errors.New("partner: the relationship has neither TargetSharingEpr nor TargetAutodiscoverEpr")
	ErrNoEWSURL   = errors.New("partner: the partner's Autodiscover gave no EWS URL")
	ErrAnswer     = errors.New("partner: the partner's answer is not usable")
	// ErrNoPartner: the relationship has no TargetApplicationUri to ask
	// for a token for, and discovery gave none.
	ErrNoPartner = errors.New("partner: no TargetApplicationUri")
)

// WSSecurityURL appends /WSSecurity unless the URL already ends in it, as
// Exchange's EwsWsSecurityUrl.Fix does. docs/protocol.md §1.1.
func WSSecurityURL(u string) string {
	t := strings.TrimRight(u, "/")
	if strings.HasSuffix(strings.ToLower(t), "/wssecurity") {
		return u
	}
	return t + "/WSSecurity"
}

// EWSURL learns the partner's EWS URL: its TargetSharingEpr, or
// ExternalEwsUrl (else InteropExternalEwsUrl) from GetUserSettings for
// mailbox at its Autodiscover /WSSecurity.
func (c *Client) EWSURL(ctx context.Context, p Partner, user, mailbox string) (string, error) {
	if p.SharingEPR != "" {
		return p.SharingEPR, nil
	}
	if p.AutodiscoverEPR == "" {
		return "", ErrNoEndpoint
	}
	tok, err := c.Tokens.Token(ctx, user, p.ApplicationURI, fedtoken.OfferAutodiscover)
	if err != nil {
		return "", err
	}
	ad := &autodiscover.Client{HTTP: c.HTTP}
	resp, err := ad.GetUserSettings(ctx, WSSecurityURL(p.AutodiscoverEPR), tok, &autodiscover.GetUserSettingsRequest{
		Users:    []string{mailbox},
		Settings: []string{"ExternalEwsUrl", "ExternalEwsVersion", "InteropExternalEwsUrl"},
		Version:  "Exchange2010",
	})
	if err != nil {
		return "", fmt.Errorf("partner: the partner's Autodiscover: %w", err)
	}
	if len(resp.UserResponses) != 1 {
		return "", fmt.Errorf("%w: Autodiscover answered for %d users", ErrAnswer, len(resp.UserResponses))
	}
	u := resp.UserResponses[0]
	if u.ErrorCode != "NoError" {
		return "", fmt.Errorf("partner: the partner's Autodiscover answered %s for %s", u.ErrorCode, mailbox)
	}
	for _, name := range []string{"ExternalEwsUrl", "InteropExternalEwsUrl"} {
		if v := u.Setting(name); v != "" {
			return v, nil
		}
	}
	return "", ErrNoEWSURL
}

// FreeBusy asks partner p for the free/busy of q's mailboxes on behalf of
// q.User. Per-mailbox failures are Results; an error means no answer.
func (c *Client) FreeBusy(ctx context.Context, p Partner, q Query) ([]Result, error) {
	if len(q.Mailboxes) == 0 {
		return nil, ErrNoMailbox
	}
	url, err := c.EWSURL(ctx, p, q.User, q.Mailboxes[0])
	if err != nil {
		return nil, err
	}
	tok, err := c.Tokens.Token(ctx, q.User, p.ApplicationURI, fedtoken.OfferFreeBusy)
	if err != nil {
		return nil, err
	}
	client := &ews.Client{HTTP: c.HTTP}
	h := ews.RequestHeader{RequestType: "CrossForest", Token: tok}
	if q.Legacy {
		h.ServerVersion = "Exchange2010"
	}
	resp, err := client.GetUserAvailability(ctx, WSSecurityURL(url), h, request(q))
	if err != nil {
		return nil, fmt.Errorf("partner: the partner's EWS: %w", err)
	}
	if len(resp.FreeBusyResponses) != len(q.Mailboxes) {
		return nil, fmt.Errorf("%w: %d mailboxes answered of %d", ErrAnswer, len(resp.FreeBusyResponses), len(q.Mailboxes))
	}
	out := make([]Result, len(q.Mailboxes))
	for i, r := range resp.FreeBusyResponses {
		out[i] = result(q.Mailboxes[i], r)
	}
	return out, nil
}

// wireTime is the form of the window's times: UTC, as the request's time
// zone says.
const wireTime = "2006-01-02T15:04:05"

// request is q as GetUserAvailability, asked in UTC.
func request(q Query) *ews.GetUserAvailabilityRequest {
	view := q.View
	if view == freebusy.ViewNone {
		view = freebusy.ViewFreeBusyMerged
	}
	interval := q.Interval
	if interval <= 0 {
		interval = 30 * time.Minute
	}
	start, end := q.Start.UTC().Format(wireTime), q.End.UTC().Format(wireTime)
	minutes, v := strconv.Itoa(int(interval/time.Minute)), view.String()
	r := &ews.GetUserAvailabilityRequest{
		TimeZone:         ews.UTCTimeZone(),
		MailboxDataArray: &ews.MailboxDataArray{},
		FreeBusyViewOptions: &ews.FreeBusyViewOptions{
			TimeWindow:                      &ews.TimeWindow{StartTime: &start, EndTime: &end},
			MergedFreeBusyIntervalInMinutes: &minutes,
			RequestedView:                   &v,
		},
	}
	for _, m := range q.Mailboxes {
		r.MailboxDataArray.MailboxData = append(r.MailboxDataArray.MailboxData,
			ews.MailboxData{Email: ews.EmailAddress{Address: m}, AttendeeType: "Required", ExcludeConflicts: "false"})
	}
	return r
}

// result reads one FreeBusyResponse. Times are in the request's zone,
// UTC; an offset, when the partner writes one, is honoured.
func result(mailbox string, r ews.FreeBusyResponse) Result {
	out := Result{Mailbox: mailbox, Code: strings.TrimSpace(r.ResponseMessage.ResponseCode), Message: r.ResponseMessage.MessageText}
	fv := r.FreeBusyView
	if fv == nil {
		return out
	}
	if out.Code == "NoError" {
		out.View, _ = freebusy.ParseView(fv.FreeBusyViewType)
	}
	out.Merged = fv.MergedFreeBusy
	if wh := fv.WorkingHours; wh != nil && wh.TimeZone != nil && len(wh.Periods) > 0 {
		loc, err1 := wh.TimeZone.Location()
		days, err2 := ews.Weekdays(wh.Periods[0].DayOfWeek)
		p := wh.Periods[0]
		if err1 == nil && err2 == nil && p.EndTimeInMinutes > p.StartTimeInMinutes {
			out.Zone = loc
			out.WorkingHours = &calendar.WorkingHours{Days: days,
				Start: time.Duration(p.StartTimeInMinutes) * time.Minute, End: time.Duration(p.EndTimeInMinutes) * time.Minute}
		}
	}
	for _, e := range fv.CalendarEvents {
		bp := BusyPeriod{Start: parseTime(e.StartTime), End: parseTime(e.EndTime), Busy: busyType(e.BusyType)}
		if d := e.Details; d != nil {
			bp.Subject, bp.Location, bp.Private = d.Subject, d.Location, d.IsPrivate
		}
		out.Busy = append(out.Busy, bp)
	}
	return out
}

func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	t, _ := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC)
	return t
}

// busyType reads a LegacyFreeBusyType; an unknown value is NoData.
func busyType(s string) calendar.BusyType {
	s = strings.TrimSpace(s)
	for b := calendar.Free; b <= calendar.NoData; b++ {
		if b.String() == s {
			return b
		}
	}
	return calendar.NoData
}

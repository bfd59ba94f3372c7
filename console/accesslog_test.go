package console

import (
	"context"
	"testing"
	"time"

	"github.com/calfed/calfed/admin"
	"github.com/calfed/calfed/orgrel"
)

// accessAPI answers the access log's two questions; any other call
// panics on the nil admin.API.
type accessAPI struct {
	admin.API
	sums    []orgrel.PartnerActivity
	entries []orgrel.AccessEntry
	asked   orgrel.AccessQuery
	since   time.Time
}

func (a *accessAPI) PartnerActivity(ctx context.Context, since time.Time) ([]orgrel.PartnerActivity, error) {
	a.since = since
	return a.sums, nil
}

func (a *accessAPI) AccessLog(ctx context.Context, q orgrel.AccessQuery) ([]orgrel.AccessEntry, error) {
	a.asked = q
	return a.entries, nil
}

func TestAccessLogActivity(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	ok, bad := now.Add(-2*time.Hour), now.Add(-time.Hour)
	api := &accessAPI{
		sums: []orgrel.PartnerActivity{
			{Partner: "Other", Requests: 7, ByOutcome: map[string]int{orgrel.AccessOK: 7}},
			{Partner: "Northshire", LastSuccess: &ok, LastFailure: &bad, FailureWhy: "token expired", Requests: 10,
				ByOutcome: map[string]int{orgrel.AccessOK: 6, orgrel.AccessPartial: 1, orgrel.AccessDenied: 2, orgrel.AccessFailed: 1}},
		},
		entries: []orgrel.AccessEntry{ // oldest first, as the store gives them
			{At: ok, Operation: "GetUserAvailability", Account: "svc-north", Outcome: orgrel.AccessOK},
			{At: bad, Operation: "GetUserAvailability", User: "bob@northshire.example", Outcome: orgrel.AccessFailed, Reason: "token expired"},
		},
	}
	got, err := AccessLog{API: api, Window: 24 * time.Hour, Now: func() time.Time { return now }}.PartnerActivity(context.Background(), "Northshire")
	if err != nil {
		t.Fatal(err)
	}
	if !api.since.Equal(now.Add(-24*time.Hour)) || api.asked.Partner != "Northshire" || api.asked.Limit != 20 {
		t.Errorf("asked since %v, %+v", api.since, api.asked)
	}
	if !got.Recorded || got.Requests != 10 || got.Refused != 3 || got.FailureReason != "token expired" ||
		got.LastSuccess == nil || !got.LastSuccess.Equal(ok) || got.LastFailure == nil || !got.LastFailure.Equal(bad) {
		t.Errorf("summary = %+v", got)
	}
	if len(got.Recent) != 2 || got.Recent[0].Caller != "bob@northshire.example" || got.Recent[0].Outcome != "failed: token expired" ||
		got.Recent[1].Caller != "svc-north" || got.Recent[1].Outcome != "ok" {
		t.Errorf("recent = %+v, want the newest first, each with its caller and outcome", got.Recent)
	}
	none, err := AccessLog{API: &accessAPI{}}.PartnerActivity(context.Background(), "Northshire")
	if err != nil || !none.Recorded || none.Requests != 0 || none.LastSuccess != nil || len(none.Recent) != 0 {
		t.Errorf("a partner without requests: %+v, %v", none, err)
	}
}

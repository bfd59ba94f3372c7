package mailtips_test

import (
	"context"
	"fmt"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/mailtips"
	"github.com/calfed/calfed/orgrel"
)

func Example() {
	ctx := context.Background()
	dir, _ := calendar.NewDirectory(ctx, []calendar.Entry{{
		Mailbox: calendar.Mailbox{Address: "bob@contoso.example", AutoReply: &calendar.AutoReply{Message: "On leave until Monday."}},
		Source:  calendar.StaticSource{Name: "bob", Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")},
	}}, calendar.DirectoryOptions{})
	policy, _ := orgrel.NewPolicy([]orgrel.Relationship{{Name: "Fabrikam", Domains: []string{"fabrikam.example"}, Enabled: true,
		MailTipsAccessEnabled: true, MailTipsAccessLevel: orgrel.MailTipsLimited}}, nil)
	s := mailtips.New(mailtips.Options{Directory: dir, Access: policy, Now: func() time.Time { return time.Date(2026, 3, 26, 10, 0, 0, 0, time.UTC) }})

	caller := identity.Caller{Domain: "fabrikam.example", Email: "kim@fabrikam.example"}
	for _, to := range []string{"bob@contoso.example", "nobody@contoso.example"} {
		r := s.Recipient(ctx, caller, mailtips.All, to)
		fmt.Printf("%s: invalid %v, auto-reply %q\n", to, r.InvalidRecipient, r.OutOfOffice.Message)
	}
	// Output:
	// bob@contoso.example: invalid false, auto-reply "On leave until Monday."
	// nobody@contoso.example: invalid true, auto-reply ""
}

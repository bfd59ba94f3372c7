package caldav_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/calfed/calfed/caldav"
	"github.com/calfed/calfed/calendar"
)

// A server with one mailbox at its calendar home. Until a round has
// synced it, the mailbox's calendar is unavailable; Server.Run keeps it
// in step after that, and a calendar.Directory reads it like a file.
func ExampleServer() {
	base, _ := url.Parse("https://dav.contoso.example/")
	srv := caldav.NewServer(caldav.Config{
		Name:        "dav",
		URL:         base,
		Credentials: caldav.Credentials{Username: "calfed", PasswordFile: "/etc/calfed/dav.password"},
	})
	home, _ := url.Parse("https://dav.contoso.example/dav/calendars/alice/")
	src := srv.Mailbox("alice@contoso.example", home)
	fmt.Println(src)
	_, err := src.Stamp(context.Background())
	fmt.Println(errors.Is(err, calendar.ErrUnavailable), err)
	// Output:
	// caldav dav https://dav.contoso.example/dav/calendars/alice/
	// true caldav server dav: not synced yet
}

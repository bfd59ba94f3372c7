package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A caldav server's problems are reported each with its field and fix;
// secrets written into the file are refused.
func TestCalDAVProblems(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "open.password"), []byte("pw\n"), 0o644)
	os.Chmod(filepath.Join(dir, "open.password"), 0o644)
	c, err := Parse([]byte(`
caldav:
  - name: inline
    url: https://dav.contoso.example/
    username: calfed
    password: hunter2
  - name: token
    url: https://calfed:hunter2@dav.contoso.example/
    bearer_token: abc
  - name: plain
    url: http://dav.contoso.example/
    username: calfed
    password_file: open.password
    max_staleness: 1m
  - name: elsewhere
    url: https://dav.contoso.example/
    calendar_url: https://evil.example/{user}/
    mailboxes: {addresses: [dan@contoso.example]}
  - name: nodir
    url: https://dav.contoso.example/
    mailboxes: {}
  - name: inline
    url: https://dav2.contoso.example/
mailboxes:
  - address: alice@contoso.example
    caldav: {server: missing}
  - address: bob@contoso.example
    calendar: bob.ics
    caldav: {server: inline}
`))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir = dir
	_, err = c.Build()
	if err == nil {
		t.Fatal("Build accepted an invalid configuration")
	}
	for _, want := range []string{
		"caldav[0] (inline).password: a secret is never written in the configuration",
		"caldav[0] (inline).password_file: required with username",
		"caldav[1] (token).url: \"https://calfed:xxxxx@dav.contoso.example/\" carries credentials",
		"caldav[1] (token).bearer_token: a secret is never written",
		"caldav[2] (plain).url: \"http://dav.contoso.example/\" is plain HTTP to another machine",
		"caldav[2] (plain).password_file: " + filepath.Join(dir, "open.password") + " is readable by others",
		"caldav[2] (plain).max_staleness: 1m0s is less than two sync intervals",
		"caldav[3] (elsewhere).calendar_url: \"https://evil.example/{user}/\" is not on the server",
		"caldav[4] (nodir).mailboxes: a directory needs calendar_url",
		"caldav[4] (nodir).mailboxes: list addresses or name an addresses_file",
		"caldav[5] (inline).name: another caldav server has this name",
		"mailboxes[0] (alice@contoso.example).caldav.server: \"missing\" is not the name of a caldav server",
		"mailboxes[1] (bob@contoso.example): calendar and caldav are two sources",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Build error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Build error repeats a secret:\n%v", err)
	}
}

// A directory stanza makes one mailbox per address (from the list and
// the file) on the server, at its calendar_url with {user} filled in.
func TestCalDAVDirectory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "dav.password"), []byte("pw\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "users.txt"), []byte("# staff\ncarol@contoso.example\n\ndan@contoso.example dwhite\n"), 0o644)
	c, err := Parse([]byte(`
caldav:
  - name: dav
    url: https://dav.contoso.example/remote.php/dav/
    calendar_url: calendars/{user}/
    username: calfed
    password_file: dav.password
    mailboxes:
      addresses: [bob@contoso.example]
      addresses_file: users.txt
      time_zone: Europe/London
      external_sharing: LimitedDetails
mailboxes:
  - address: erin@contoso.example
    caldav: {server: dav, url: /remote.php/dav/calendars/erin.w/personal/}
`))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir = dir
	os.WriteFile(filepath.Join(dir, "users.txt"), []byte("# staff\ncarol@contoso.example\n\ndan@contoso.example\nbob@contoso.example\n"), 0o644)
	_, err = c.Build()
	if err == nil || !strings.Contains(err.Error(), "users.txt:5 (bob@contoso.example).address: also used by caldav[0] (dav).mailboxes.addresses[0]") {
		t.Fatalf("a duplicate address: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "users.txt"), []byte("carol@contoso.example carol extra\n"), 0o644)
	if _, err = c.Build(); err == nil || !strings.Contains(err.Error(), "users.txt:1: \"carol@contoso.example carol extra\": want an address, optionally followed by its user name") {
		t.Fatalf("a line of three fields: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "users.txt"), []byte("# staff\ncarol@contoso.example\n\ndan@contoso.example dwhite\n"), 0o644)
	b, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"erin@contoso.example":  "caldav dav https://dav.contoso.example/remote.php/dav/calendars/erin.w/personal/",
		"bob@contoso.example":   "caldav dav https://dav.contoso.example/remote.php/dav/calendars/bob/",
		"carol@contoso.example": "caldav dav https://dav.contoso.example/remote.php/dav/calendars/carol/",
		"dan@contoso.example":   "caldav dav https://dav.contoso.example/remote.php/dav/calendars/dwhite/",
	}
	if len(b.Entries) != len(want) || len(b.CalDAV) != 1 || len(b.CalDAV[0].Sources()) != len(want) {
		t.Fatalf("Build made %d entries on %d servers", len(b.Entries), len(b.CalDAV))
	}
	for _, e := range b.Entries {
		if got := e.Source.String(); got != want[e.Mailbox.Address] {
			t.Errorf("%s: source %s, want %s", e.Mailbox.Address, got, want[e.Mailbox.Address])
		}
		if e.Mailbox.Address != "erin@contoso.example" && (e.Mailbox.Location.String() != "Europe/London" || b.Sharing[e.Mailbox.Address].String() != "LimitedDetails") {
			t.Errorf("%s: the directory's settings are not applied: %v %v", e.Mailbox.Address, e.Mailbox.Location, b.Sharing[e.Mailbox.Address])
		}
	}
}

package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParseIsStrict(t *testing.T) {
	if _, err := Parse([]byte("listn: 127.0.0.1:1\n")); err == nil {
		t.Error("Parse accepted an unknown field")
	}
	c, err := Parse([]byte("listen: 127.0.0.1:1\ncalendars:\n  reload_interval: 5s\n"))
	if err != nil || c.Listen != "127.0.0.1:1" || c.Calendars.ReloadInterval != Duration(5e9) {
		t.Errorf("Parse = %+v, %v", c, err)
	}
	if _, err := Parse([]byte("calendars:\n  reload_interval: -5s\n")); err == nil {
		t.Error("Parse accepted a negative duration")
	}
}

// Build reports every problem at once, each with the field it is in.
func TestBuildReportsEveryProblem(t *testing.T) {
	c, err := Parse([]byte(`
mailboxes:
  - address: not-an-address
    calendar: a.ics
  - address: bob@example.org
    kind: castle
    time_zone: Mars/Olympus
    external_sharing: Everything
    working_hours: {start: "17:00", end: "09:00"}
store: {driver: oracle}
public_url: ftp://x
tls: {cert_file: only-cert.pem}
`))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir = t.TempDir()
	_, err = c.Build()
	if err == nil {
		t.Fatal("Build accepted an invalid configuration")
	}
	for _, field := range []string{"mailboxes[0].address", "mailboxes[1] (bob@example.org).calendar", ".kind", ".time_zone",
		".external_sharing", ".working_hours", "store.driver", "public_url", "tls: cert_file and key_file"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("Build error does not name %s:\n%v", field, err)
		}
	}
}

func TestPaths(t *testing.T) {
	c := &Config{Dir: "/etc/calfed"}
	if got := c.StoreConfig(); got.Driver != "sqlite" || got.DSN != filepath.Join("/etc/calfed", "data", "calfed.db") {
		t.Errorf("StoreConfig() = %+v", got)
	}
	if got := string(c.Keys()); got != "/etc/calfed/data/keys" {
		t.Errorf("Keys() = %s", got)
	}
	if got := c.StoreLocation(); got != "/etc/calfed/data/calfed.db" {
		t.Errorf("StoreLocation() = %s", got)
	}
	pg := &Config{}
	pg.Store.Driver, pg.Store.DSN = "postgres", "postgres://calfed:s3cret@db.internal/calfed"
	if got := pg.StoreLocation(); got != "(postgres://calfed:***@db.internal/calfed)" {
		t.Errorf("StoreLocation() = %s, want the password hidden", got)
	}
	c.DataDir = "/var/lib/calfed"
	if got := c.Path("x.ics"); got != "/etc/calfed/x.ics" {
		t.Errorf("Path(x.ics) = %s", got)
	}
	if got := string(c.Keys()); got != "/var/lib/calfed/keys" {
		t.Errorf("Keys() with data_dir = %s", got)
	}
}

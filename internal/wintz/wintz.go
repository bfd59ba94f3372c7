package wintz

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrUnknownZone is returned for a zone name neither CLDR nor the IANA
// database knows.
var ErrUnknownZone = errors.New("wintz: unknown time zone")

// IANA returns the IANA name for a Windows zone id.
func IANA(windowsID string) (string, bool) {
	name, ok := windowsToIANA[windowsID]
	return name, ok
}

// WindowsID returns the Windows zone id for an IANA name ("UTC" for UTC).
func WindowsID(iana string) (string, bool) {
	if iana == "UTC" || iana == "Etc/UTC" || iana == "" {
		return "UTC", true
	}
	id, ok := ianaToWindows[iana]
	return id, ok
}

// WindowsIDs returns every Windows zone id, sorted.
func WindowsIDs() []string {
	ids := make([]string, 0, len(windowsToIANA))
	for id := range windowsToIANA {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

var locCache sync.Map // name -> *time.Location

// Load resolves a zone name given as an IANA name or a Windows id.
func Load(name string) (*time.Location, error) {
	if v, ok := locCache.Load(name); ok {
		return v.(*time.Location), nil
	}
	loc, err := load(name)
	if err != nil {
		return nil, err
	}
	locCache.Store(name, loc)
	return loc, nil
}

func load(name string) (*time.Location, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty name", ErrUnknownZone)
	}
	if iana, ok := windowsToIANA[name]; ok {
		return time.LoadLocation(iana)
	}
	// time.LoadLocation also accepts file-system paths; allow only zone names.
	if strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("%w: %q", ErrUnknownZone, name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownZone, name)
	}
	return loc, nil
}

// DisplayName returns a Windows-style display name, "(UTC+01:00) Berlin",
// for the zone's standard offset in year.
func DisplayName(windowsID string, year int) string {
	iana, ok := windowsToIANA[windowsID]
	if !ok {
		return windowsID
	}
	loc, err := time.LoadLocation(iana)
	if err != nil {
		return windowsID
	}
	r := RuleFor(loc, year)
	off := -r.Bias
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	city := iana[strings.LastIndexByte(iana, '/')+1:]
	city = strings.ReplaceAll(city, "_", " ")
	if strings.HasPrefix(iana, "Etc/") || windowsID == "UTC" {
		city = "Coordinated Universal Time"
	}
	return fmt.Sprintf("(UTC%c%02d:%02d) %s", sign, off/60, off%60, city)
}

// FromDisplayName returns the Windows zone id for a Windows display name,
// "(UTC-05:00) Eastern Time (US & Canada)", as Outlook and Exchange write
// it into TZID when they export no VTIMEZONE. The offset prefix is
// ignored (Windows updates it, and older versions write "GMT"), and so are
// case, spacing and "&" written as "and".
func FromDisplayName(name string) (string, bool) {
	id, ok := displayNames[DisplayKey(name)]
	return id, ok
}

// DisplayKey normalises a display name for FromDisplayName; exported for
// the generator.
func DisplayKey(name string) string {
	name = strings.TrimSpace(name)
	if strings.HasPrefix(name, "(UTC") || strings.HasPrefix(name, "(GMT") {
		if i := strings.IndexByte(name, ')'); i > 0 {
			name = name[i+1:]
		}
	}
	name = strings.ReplaceAll(strings.ToLower(name), "&", " and ")
	return strings.Join(strings.Fields(name), " ")
}

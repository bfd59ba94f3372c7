"""An RFC 5545 expansion independent of calfed, for the differential test
over the real-world corpus (interop/realworld_test.go): Debian's
python3-icalendar reads each file and python3-recurring-ical-events expands
its recurrences.

    /usr/bin/python3 expand_reference.py < request.json > answer.json

The request names the files and, for each, the windows to answer:

    {"files": [{"path": "...", "windows": [[from, to], ...]}]}

with from and to in Unix seconds (UTC), the window being [from, to). The
answer holds one result per file, in order:

    {"results": [{"error": null, "windows": [[[start, end, "Busy"], ...], ...]}]}

Each window lists the instances that overlap it (whole, not clipped) as
start and end in Unix seconds and the busy type calfed gives the item
(calendar/ics.go busyType, without an owner): X-MICROSOFT-CDO-BUSYSTATUS,
then TRANSP, then STATUS:TENTATIVE, else Busy. Free items and cancelled
instances (STATUS:CANCELLED) are left out, as free/busy shows neither. A
file the reference cannot read, or cannot answer a window of, has "error"
set to the reason and no windows.

The reading follows RFC 5545 and nothing else: floating times and dates
are taken in UTC, as the test gives calfed Location UTC; the non-standard
X-WR-TIMEZONE is not applied (recurring_ical_events.of would apply it, so
the calendar is unfolded with UnfoldableCalendar directly). Two limits of
the libraries are worked around, neither changing what they compute: a
leading UTF-8 byte order mark is dropped before parsing, as RFC 3629 §6
lets a reader do, and each file is parsed twice so that a TZID finds its
VTIMEZONE even when the VTIMEZONE comes later in the file.
"""
import datetime
import json
import sys

import icalendar
import recurring_ical_events
from icalendar import timezone_cache

UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)

BUSY_STATUS = {
    "FREE": "Free",
    "TENTATIVE": "Tentative",
    "BUSY": "Busy",
    "OOF": "OOF",
    "WORKINGELSEWHERE": "WorkingElsewhere",
}


def text(value):
    """The text of a property that may appear more than once (the first)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip().upper()


def busy_type(event):
    cdo = event.get("X-MICROSOFT-CDO-BUSYSTATUS")
    if cdo is not None and text(cdo) in BUSY_STATUS:
        return BUSY_STATUS[text(cdo)]
    transp = text(event.get("TRANSP", ""))
    if transp == "TRANSPARENT":
        return "Free"
    if transp == "OPAQUE":
        return "Busy"
    if text(event.get("STATUS", "")) == "TENTATIVE":
        return "Tentative"
    return "Busy"


def unix(value):
    """Unix seconds of a DATE (a UTC day), a floating DATE-TIME (UTC) or a
    DATE-TIME with a zone."""
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int((value - EPOCH).total_seconds())


def answer(data, windows):
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # icalendar keeps the VTIMEZONEs it has read in a process-wide cache by
    # TZID, and resolves a TZID only against those read before it: another
    # file's definition of the same TZID must not be used, and this file's
    # must be used wherever it stands (RFC 5545 §3.2.19 puts no order on
    # the components). So the cache starts empty, the first reading fills it
    # and the second uses it.
    timezone_cache._timezone_cache.clear()
    icalendar.Calendar.from_ical(data, multiple=True)
    calendars = icalendar.Calendar.from_ical(data, multiple=True)
    unfolded = [recurring_ical_events.UnfoldableCalendar(c) for c in calendars
                if c.name == "VCALENDAR"]
    if not unfolded:
        raise ValueError("no VCALENDAR object")
    out = []
    for start, end in windows:
        span = (datetime.datetime.fromtimestamp(start, UTC), datetime.datetime.fromtimestamp(end, UTC))
        found = set()
        for cal in unfolded:
            for event in cal.between(*span):
                if text(event.get("STATUS", "")) == "CANCELLED":
                    continue
                busy = busy_type(event)
                if busy == "Free":
                    continue
                found.add((unix(event["DTSTART"].dt), unix(event["DTEND"].dt), busy))
        out.append(sorted(found))
    return out


def main():
    request = json.load(sys.stdin)
    results = []
    for f in request["files"]:
        with open(f["path"], "rb") as fh:
            data = fh.read()
        try:
            results.append({"error": None, "windows": answer(data, f["windows"])})
        except Exception as e:  # any failure is the reference not reading the file
            results.append({"error": "%s: %s" % (type(e).__name__, str(e)[:300]), "windows": None})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()

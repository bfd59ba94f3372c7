"""Query a running calfed with exchangelib and print the answer as JSON.

    /usr/bin/python3 freebusy.py URL USER SECRET TZ START END VIEW INTERVAL ADDRESS...

START and END are wall-clock times (YYYY-MM-DDTHH:MM:SS) in the IANA zone
TZ; exchangelib sends that zone as the request's legacy t:TimeZone, built
from the server's GetServerTimeZones answer. Event times are printed as
exchangelib returns them: naive wall-clock times in TZ.
"""
import datetime
import json
import logging
import sys

from exchangelib import BASIC, Configuration, Credentials, EWSDateTime, EWSTimeZone
from exchangelib.errors import ResponseMessageError
from exchangelib.fields import WEEKDAY_NAMES
from exchangelib.protocol import BaseProtocol, Protocol

BUSY = {"Free": "Free", "Tentative": "Tentative", "Busy": "Busy", "OOF": "OOF",
        "WorkingElsewhere": "WorkingElsewhere", "NoData": "NoData"}


def main(argv):
    url, user, secret, tz, start, end, view, interval, *addresses = argv
    logging.getLogger("exchangelib").setLevel(logging.ERROR)  # naive datetimes are expected
    BaseProtocol.USERAGENT = "calfed-interop"
    config = Configuration(service_endpoint=url, credentials=Credentials(user, secret), auth_type=BASIC)
    protocol = Protocol(config=config)
    zone = EWSTimeZone(tz)
    start_dt = EWSDateTime.from_datetime(datetime.datetime.fromisoformat(start).replace(tzinfo=zone))
    end_dt = EWSDateTime.from_datetime(datetime.datetime.fromisoformat(end).replace(tzinfo=zone))
    out = []
    for address in addresses:
        r = {"address": address}
        # exchangelib raises on most per-mailbox errors, so ask one mailbox
        # at a time to see each mailbox's answer.
        try:
            [fb] = list(protocol.get_free_busy_info(accounts=[(address, "Required", False)], start=start_dt, end=end_dt,
                                                    merged_free_busy_interval=int(interval), requested_view=view))
        except ResponseMessageError as e:
            r["error"] = type(e).__name__
            r["message"] = str(e)
            out.append(r)
            continue
        if isinstance(fb, Exception):
            r["error"] = type(fb).__name__
            r["message"] = str(fb)
            out.append(r)
            continue
        r["error"] = "NoError"
        r["view"] = fb.view_type
        if fb.merged:
            r["merged"] = fb.merged
        events = []
        for e in fb.calendar_events or []:
            ev = {"start": e.start.strftime("%Y-%m-%dT%H:%M:%S"), "end": e.end.strftime("%Y-%m-%dT%H:%M:%S"),
                  "busy": BUSY[e.busy_type]}
            if e.details is not None:
                ev.update(subject=e.details.subject or "", location=e.details.location or "",
                          private=bool(e.details.is_private), recurring=bool(e.details.is_recurring),
                          exception=bool(e.details.is_exception), meeting=bool(e.details.is_meeting))
            events.append(ev)
        r["events"] = events
        if fb.working_hours:
            r["working"] = [{"days": [WEEKDAY_NAMES[d - 1] for d in wp.weekdays],
                             "start": wp.start.hour * 60 + wp.start.minute,
                             "end": wp.end.hour * 60 + wp.end.minute} for wp in fb.working_hours]
        out.append(r)
    print(json.dumps(out, indent=1))
    print("server version:", protocol.version.build, file=sys.stderr)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except ResponseMessageError as e:
        print(f"exchangelib: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)

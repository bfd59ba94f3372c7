"""Discover a running calfed with exchangelib's own autodiscovery, then ask
for free/busy at the EWS URL it discovered. Prints JSON.

    /usr/bin/python3 autodiscover.py pox|soap BASE USER SECRET EMAIL START END

exchangelib tries https://<domain>/... and https://autodiscover.<domain>/...
first; a loopback test has neither name nor certificate nor DNS, so the
only changes made to it here are where step 1 looks (BASE instead of
https://<domain>) and that it skips its DNS check of that host name.
Everything after that (authentication probing, the request, parsing,
following redirects, building the EWS protocol) is exchangelib's.
"""
import datetime
import json
import logging
import sys

from exchangelib import BASIC, Credentials, EWSDateTime, EWSTimeZone
from exchangelib.autodiscover.cache import autodiscover_cache
from exchangelib.autodiscover.discovery.pox import PoxAutodiscovery
from exchangelib.autodiscover.discovery.soap import SoapAutodiscovery
from exchangelib.errors import AutoDiscoverFailed


def loopback(cls, base):
    class Loopback(cls):
        def _ensure_valid_hostname(self, url):
            pass

        def _step_1(self, hostname):
            ok, ad = self._attempt_response(url=f"{base}/{self.URL_PATH}")
            if not ok:
                raise AutoDiscoverFailed(f"no valid answer from {base}/{self.URL_PATH}")
            return self._step_5(ad=ad)

    return Loopback


def main(argv):
    mode, base, user, secret, email, start, end = argv[:7]
    logging.basicConfig(level=logging.DEBUG if "-v" in sys.argv else logging.ERROR)
    autodiscover_cache.clear()
    cls = loopback(PoxAutodiscovery if mode == "pox" else SoapAutodiscovery, base)
    ad, protocol = cls(email=email, credentials=Credentials(user, secret)).discover()
    out = {"ews_url": protocol.service_endpoint}
    if mode == "pox":
        out["display_name"] = ad.user.display_name
        out["auth_type"] = protocol.config.auth_type
        out["build"] = str(ad.version.build) if ad.version else None
    else:
        out["display_name"] = ad.user_settings.get("user_display_name")
        out["version"] = ad.version.api_version if ad.version else None
    if protocol.config.auth_type is None:
        protocol.config.auth_type = BASIC
    tz = EWSTimeZone("UTC")
    s = EWSDateTime.from_datetime(datetime.datetime.fromisoformat(start).replace(tzinfo=tz))
    e = EWSDateTime.from_datetime(datetime.datetime.fromisoformat(end).replace(tzinfo=tz))
    [fb] = list(protocol.get_free_busy_info([(email, "Required", False)], s, e, merged_free_busy_interval=60, requested_view="FreeBusyMerged"))
    out["merged"] = fb.merged
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])

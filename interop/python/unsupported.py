"""Call EWS operations calfed does not serve with exchangelib and print, as
JSON, the error class exchangelib raises for each:

    /usr/bin/python3 unsupported.py URL USER SECRET ADDRESS

GetUserOofSettings through Account.oof_settings, GetFolder through
Account.root, FindItem through the FindItem service on the calendar.
"""
import json
import logging
import sys

from exchangelib import BASIC, DELEGATE, Account, Configuration, Credentials
from exchangelib.errors import EWSError
from exchangelib.properties import DistinguishedFolderId, Mailbox
from exchangelib.protocol import BaseProtocol
from exchangelib.services import FindItem


def main(argv):
    url, user, secret, address = argv
    logging.getLogger("exchangelib").setLevel(logging.CRITICAL)
    BaseProtocol.USERAGENT = "calfed-interop"
    config = Configuration(service_endpoint=url, credentials=Credentials(user, secret), auth_type=BASIC)
    account = Account(primary_smtp_address=address, config=config, autodiscover=False, access_type=DELEGATE)
    calls = {
        "GetUserOofSettings": lambda: account.oof_settings,
        "GetFolder": lambda: account.root,
        "FindItem": lambda: list(FindItem(account=account).call(
            folders=[DistinguishedFolderId(id="calendar", mailbox=Mailbox(email_address=address))],
            additional_fields=set(), restriction=None, order_fields=None, shape="IdOnly", query_string=None,
            depth="Shallow", calendar_view=None, max_items=None, offset=0)),
    }
    out = {}
    for op, call in calls.items():
        try:
            call()
            out[op] = "no error"
        except EWSError as e:
            out[op] = type(e).__name__
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])

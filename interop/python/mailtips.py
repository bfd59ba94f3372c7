"""Ask a running calfed for MailTips with exchangelib and print them as JSON.

    /usr/bin/python3 mailtips.py URL USER SECRET SENDER REQUESTED ADDRESS...

REQUESTED is the MailTipsRequested list (e.g. "All"). One JSON object per
recipient, in order: the address as answered, InvalidRecipient, the
automatic reply and its period, the custom MailTip and the member count,
each null when the answer leaves it out.
"""
import json
import logging
import sys

from exchangelib import BASIC, Configuration, Credentials
from exchangelib.errors import ResponseMessageError
from exchangelib.properties import Mailbox, SendingAs
from exchangelib.protocol import BaseProtocol, Protocol
from exchangelib.services import GetMailTips


def main(argv):
    url, user, secret, sender, requested, *addresses = argv
    logging.getLogger("exchangelib").setLevel(logging.ERROR)
    BaseProtocol.USERAGENT = "calfed-interop"
    config = Configuration(service_endpoint=url, credentials=Credentials(user, secret), auth_type=BASIC)
    protocol = Protocol(config=config)
    tips = GetMailTips(protocol=protocol).call(
        sending_as=SendingAs(email_address=sender),
        recipients=[Mailbox(email_address=a) for a in addresses],
        mail_tips_requested=requested,
    )
    out = []
    for t in tips:
        if isinstance(t, Exception):
            out.append({"error": type(t).__name__})
            continue
        r = {
            "address": t.recipient_address.email_address if t.recipient_address else None,
            "invalid_recipient": t.invalid_recipient,
            "out_of_office": None,
            "custom_mail_tip": t.custom_mail_tip,
            "total_member_count": t.total_member_count,
        }
        if t.out_of_office is not None:
            o = t.out_of_office
            r["out_of_office"] = {
                "reply": o.reply_body or "",
                "start": o.start.isoformat() if o.start else None,
                "end": o.end.isoformat() if o.end else None,
            }
        out.append(r)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except ResponseMessageError as e:
        print(f"exchangelib: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)

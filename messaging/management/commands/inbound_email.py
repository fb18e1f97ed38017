"""`python manage.py inbound_email < message.eml`: one email from standard input, as an MTA pipes it
(Postfix `mailbox_command`, an alias `| manage.py inbound_email`, procmail).

Exit status 0 whatever the message is (duplicate, unmatched, unreadable): a non-zero status makes
the MTA bounce the lead's email. 1 only when nothing came in at all.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from reactions.inbound_email import inbound_email_receive


class Command(BaseCommand):
    help = "Process one inbound email (RFC 5322 bytes) read from standard input."
    stealth_options = ("stdin",)  # call_command(..., stdin=BytesIO(...)) in tests

    def handle(self, *args, **options):
        stdin = options.get("stdin") or sys.stdin
        raw = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if not raw.strip():
            raise CommandError("No message on standard input.", returncode=1)
        result = inbound_email_receive(raw, via="command")
        self.stdout.write(outcome_line(result))


def outcome_line(result) -> str:
    if result.duplicate:
        return "duplicate: already processed"
    inbound = result.inbound
    if inbound is None or inbound.lead_id is None:
        return "unmatched: listed under Unmatched replies"
    return f"matched lead {inbound.lead_id} ({inbound.kind}, by {inbound.matched_by})"

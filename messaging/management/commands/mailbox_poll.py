import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from messaging.providers.imap import ImapError, ImapMailbox
from reactions.mailbox_poll import mailbox_config, mailbox_poll


class Command(BaseCommand):
    help = (
        "Read the reply mailbox (REPLY_IMAP_*) once: its new mail through the inbound entry point, "
        "each message moved to REPLY_IMAP_PROCESSED_FOLDER. With --idle, keep doing it: wait with "
        "IMAP IDLE when the server has it (else sleep REPLY_IMAP_POLL_SECONDS), for operators who "
        "run it as a process of its own instead of beat's polls."
    )

    def add_arguments(self, parser):
        parser.add_argument("--idle", action="store_true", help="Poll, then wait for new mail; until stopped.")

    def handle(self, *args, idle: bool, **options):
        config = mailbox_config()
        if config is None:
            raise CommandError("REPLY_IMAP_HOST is not set: there is no reply mailbox to read.")
        if not idle:
            self._report(mailbox_poll())
            return
        while True:
            close_old_connections()  # a process that lives for days: drop a connection the server closed
            self._cycle(config)

    def _cycle(self, config) -> None:
        """One poll on a connection kept for IDLE afterwards. IDLE returns on new mail; it waits at
        most REPLY_IMAP_POLL_SECONDS, so mail that came in between the poll and IDLE waits no longer."""
        wait = settings.REPLY_IMAP_POLL_SECONDS
        try:
            with ImapMailbox(config) as box:
                self._report(mailbox_poll(box=box))
                if box.can_idle:
                    box.idle_wait(wait)
                    return
        except ImapError as exc:
            mailbox_poll()  # records the error in MailboxState.last_error
            self.stderr.write(f"Reply mailbox: {exc}; trying again in {wait} s.")
        time.sleep(wait)

    def _report(self, result: dict) -> None:
        self.stdout.write(" ".join(f"{key}={value}" for key, value in result.items()), ending="\n")
        self.stdout.flush()

"""The reply mailbox: every email that lands in it goes through the one inbound entry point.

Leads' replies (Reply-To: replies+<token>@…) and bounces arrive in an ordinary mailbox
(settings.REPLY_IMAP_*). Beat polls it (intake.mailbox_poll, every REPLY_IMAP_POLL_SECONDS), or
`manage.py mailbox_poll --idle` waits on it with IMAP IDLE.

One poll, `mailbox_poll()`:

1. Take the mailbox's lock (messaging.mailbox.mailbox_lock): a second beat or worker finds it
   held and does nothing.
2. Log in, select REPLY_IMAP_FOLDER, read its UIDVALIDITY. A value other than the one recorded
   means the server renumbered the folder: the cursor starts again at UID 0.
3. For each message with UID > the cursor, in UID order: `inbound_email_receive(raw, via="imap")`,
   which commits it (or finds it a duplicate: same Message-ID) in a transaction of its own; then
   move the message to REPLY_IMAP_PROCESSED_FOLDER; then advance the cursor to its UID.
4. A message that fails (the entry point raised: database down, a bug) stays in the folder, is
   warned about once (UID only, no personal data) and is read again by the next poll; the cursor
   stops short of it, the messages after it are still processed and moved.

Killed anywhere: what was committed stays, the rest is still in the folder above the cursor. A
message committed but not yet moved is read again and found a duplicate by its Message-ID, so no
email is processed twice and none is lost. IMAP unreachable: the poll returns the error, records
it in MailboxState.last_error and changes nothing else.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache

from messaging.mailbox import (
    mailbox_cursor_advance,
    mailbox_cursor_reset,
    mailbox_lock,
    mailbox_polled,
    mailbox_state_for,
)
from messaging.providers.imap import ImapConfig, ImapError, ImapMailbox
from reactions.inbound_email import inbound_email_receive

log = logging.getLogger(__name__)

# A failing message is warned about once a day per process group sharing the cache, not every poll.
FAILURE_WARNING_SECONDS = 24 * 3600


def mailbox_config() -> ImapConfig | None:
    """The reply mailbox from settings; None when REPLY_IMAP_HOST is blank (no polling)."""
    if not settings.REPLY_IMAP_HOST:
        return None
    return ImapConfig(
        host=settings.REPLY_IMAP_HOST,
        port=settings.REPLY_IMAP_PORT,
        user=settings.REPLY_IMAP_USER,
        password=settings.REPLY_IMAP_PASSWORD,
        security=settings.REPLY_IMAP_SECURITY,
    )


def mailbox_name(config: ImapConfig) -> str:
    """MailboxState.mailbox: user@host:port/folder."""
    return f"{config.label}/{settings.REPLY_IMAP_FOLDER}"


def mailbox_poll(now=None, *, box: ImapMailbox | None = None) -> dict:
    """Process the new mail once (module docstring). `box`: an open connection to reuse (the IDLE
    loop); by default the poll logs in and out. Returns counts: received, duplicates, failed, and
    `error` when the mailbox could not be read, `skipped` when it was not polled."""
    config = mailbox_config()
    if config is None:
        return {"skipped": "REPLY_IMAP_HOST is not set"}
    state = mailbox_state_for(mailbox_name(config))
    counts = {"received": 0, "duplicates": 0, "failed": 0}
    with mailbox_lock(state) as held:
        if not held:
            return {"skipped": "another poller holds this mailbox", **counts}
        try:
            if box is None:
                with ImapMailbox(config) as own:
                    _poll(own, state, counts)
            else:
                _poll(box, state, counts)
        except ImapError as exc:
            log.warning("Reply mailbox %s: %s", state.mailbox, exc)
            mailbox_polled(state=state, error=str(exc), now=now)
            return {"error": str(exc), **counts}
        mailbox_polled(state=state, now=now)
    return counts


def _poll(box: ImapMailbox, state, counts: dict) -> None:
    validity = box.select(settings.REPLY_IMAP_FOLDER)
    if state.uid_validity != validity:
        if state.uid_validity is not None:
            log.warning("Reply mailbox %s: UIDVALIDITY changed, reading the folder again", state.mailbox)
        mailbox_cursor_reset(state=state, uid_validity=validity)
    in_order = True  # no failure yet in this poll: the cursor may follow
    for message in box.fetch_after(state.last_uid):
        try:
            result = inbound_email_receive(message.raw, via="imap")
        except Exception as exc:
            counts["failed"] += 1
            in_order = False
            # The exception's type only: its text may quote the message (addresses, subject).
            if cache.add(f"mailbox-poll-failed:{state.pk}:{validity}:{message.uid}", 1, FAILURE_WARNING_SECONDS):
                log.warning(
                    "Reply mailbox %s: UID %s could not be processed (%s); it stays in the folder and is retried",
                    state.mailbox,
                    message.uid,
                    type(exc).__name__,
                )
            continue
        counts["duplicates" if result.duplicate else "received"] += 1
        box.move(message.uid, settings.REPLY_IMAP_PROCESSED_FOLDER)
        if in_order:
            mailbox_cursor_advance(state=state, uid=message.uid)

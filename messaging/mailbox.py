"""The IMAP poller's cursor and lock (messaging.models.MailboxState); the poll itself is
reactions/mailbox_poll.py.

The cursor says which UIDs of one folder, under one UIDVALIDITY, are done: it only ever moves
forward, and a new UIDVALIDITY starts it again at 0. It is a shortcut, not the record: a processed
message also leaves the folder, and InboundEmail's unique Message-ID keeps each message processed
once whatever the cursor says.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator

from django.db import DatabaseError, connection
from django.utils import timezone

from messaging.models import MailboxState

ERROR_MAX = MailboxState._meta.get_field("last_error").max_length


def mailbox_state_for(mailbox: str) -> MailboxState:
    return MailboxState.objects.get_or_create(mailbox=mailbox)[0]


def mailbox_cursor_reset(*, state: MailboxState, uid_validity: int) -> MailboxState:
    """The server renumbered the folder (or this is the first poll): read it from UID 1 again."""
    MailboxState.objects.filter(pk=state.pk).update(uid_validity=uid_validity, last_uid=0)
    state.uid_validity, state.last_uid = uid_validity, 0
    return state


def mailbox_cursor_advance(*, state: MailboxState, uid: int) -> None:
    """UIDs up to `uid` are done. Never backwards: a slower poller cannot undo a faster one."""
    MailboxState.objects.filter(pk=state.pk, uid_validity=state.uid_validity, last_uid__lt=uid).update(last_uid=uid)
    state.last_uid = max(state.last_uid, uid)


def mailbox_polled(*, state: MailboxState, error: str = "", now=None) -> None:
    """Record a poll's end: when, and its error ("" = it went through)."""
    now = now or timezone.now()
    MailboxState.objects.filter(pk=state.pk).update(polled_at=now, last_error=error[:ERROR_MAX])
    state.polled_at, state.last_error = now, error[:ERROR_MAX]


def mailbox_last_uid(state: MailboxState) -> int:
    return MailboxState.objects.filter(pk=state.pk).values_list("last_uid", flat=True).get()


# pg_try_advisory_lock(namespace, key): this app's namespace, the MailboxState row's pk as key.
_LOCK_NAMESPACE = zlib.crc32(b"leadfollow.mailbox_poll") & 0x7FFFFFFF


@contextlib.contextmanager
def mailbox_lock(state: MailboxState) -> Iterator[bool]:
    """Yields True while this process is the only poller of `state`'s mailbox, False when another
    one is polling it (the caller then leaves it alone).

    A PostgreSQL session-level advisory lock rather than SELECT ... FOR UPDATE on the row: each
    message is committed on its own while the poll runs (a row lock would end with the first
    commit, or hold one transaction open across the whole mailbox). The lock lives as long as the
    database session: a poller killed mid-batch loses it with its connection. SQLite (development,
    one process) has no such lock and needs none.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, state.pk])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        # A broken connection took the lock with it.
        if held:
            with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, state.pk])

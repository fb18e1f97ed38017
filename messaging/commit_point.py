"""An automated touch's commit point: the moment it becomes `sent` (messaging/dispatch.py, step 2).

`TouchCommitPoint()` marks the touch `sent` if its claim is still the caller's. Two-phase SMTP
(messaging/providers/smtp.py) calls `and_then(write_final_dot)` instead: the final "." must
follow the commit at once, or a worker killed between the two (the database says `sent`, the
server never got the ".") loses the email. Most of that gap was the wait for the database's
answer to the commit: a round trip, and on a busy machine the wait to be scheduled again.

On PostgreSQL `and_then` closes it. On a connection of its own (psycopg2's asynchronous mode,
one per thread), in a transaction, the touch is updated under its row lock and the claim
checked, answer awaited; then COMMIT is sent without waiting, the "." written right after it,
and only then is COMMIT's answer read. What a process wrote to a socket is delivered by the
kernel even if the process is killed the next instant, so a kill leaves both writes or neither,
except in the microseconds between them.

Had the connection died with COMMIT's answer after the "." went out (the database restarted, or
its sessions were terminated), whether the touch is `sent` is unknown while the email is on its
way. The commit is then made sure of on a new connection (`_recommit`), for up to half a lease,
while this process still holds the claim: the touch is `sent` either way, never left `sending`
for the reconciler to send again. Only a database unreachable for longer than that leaves the
touch `sending`, started, and the email could go twice.

Elsewhere (SQLite; inside a transaction, as in most tests, where another connection would not
see the claim) the touch is committed by the ORM first and `write` runs after it.
"""

import contextlib
import datetime as dt
import logging
import os
import select
import threading
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import OperationalError, connection
from django.utils import timezone

from cadences.models import Touch, TouchStatus

log = logging.getLogger(__name__)

# One connection per thread (a threaded web server may send from several), of this process only
# (a forked pool process opens its own); all of them listed for connection_close().
_local = threading.local()
_opened: list[tuple[int, object]] = []
_opened_lock = threading.Lock()


class TouchCommitPoint:
    """The commit point of touch `touch_id` claimed with `token` (messaging.providers.base.CommitPoint)."""

    def __init__(self, touch_id: int, token: uuid.UUID):
        self.touch_id = touch_id
        self.token = token

    def __call__(self) -> bool:
        return bool(
            Touch.objects.filter(pk=self.touch_id, claim_token=self.token, status=TouchStatus.SENDING).update(
                status=TouchStatus.SENT, sent_at=timezone.now()
            )
        )

    def and_then(self, write: Callable[[], None]) -> bool:
        """Commit, then `write` with no wait in between; False (and no write): the claim was lost."""
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            if not self():
                return False
            write()
            return True
        return _pipelined(self.touch_id, self.token, timezone.now(), write)


def _pipelined(touch_id: int, token: uuid.UUID, now: dt.datetime, write: Callable[[], None]) -> bool:
    conn, cursor = _begin()
    try:
        _run(conn, cursor, _update_sql(), [TouchStatus.SENT, now, touch_id, str(token), TouchStatus.SENDING])
        if cursor.rowcount != 1:
            _run(conn, cursor, "ROLLBACK")
            return False
        cursor.execute("COMMIT")  # sent; its answer is read after the write
    except BaseException as exc:
        _discard()
        raise _as_django_error(exc) from exc
    written = False
    try:
        write()
        written = True
    finally:
        try:
            _wait(conn)
        except BaseException as exc:
            _discard()
            if not (written and _is_database_error(exc)):
                raise _as_django_error(exc) from exc
            if not _recommit(touch_id, token, now):
                raise OperationalError("the claim was taken back while the commit's answer was lost") from exc
    return True


def _recommit(touch_id: int, token: uuid.UUID, now: dt.datetime) -> bool:
    """COMMIT's answer was lost after the write: make sure the touch is `sent` under `token`.
    True when it is (COMMIT had gone through, or it does now); False when the claim is no longer ours."""
    deadline = time.monotonic() + settings.DISPATCH_LEASE_SECONDS / 2
    while True:
        try:
            conn, cursor = _begin()
            _run(conn, cursor, _update_sql(), [TouchStatus.SENT, now, touch_id, str(token), TouchStatus.SENDING])
            if cursor.rowcount == 1:
                _run(conn, cursor, "COMMIT")
                log.warning("commit point: touch %s committed again, its first COMMIT's answer was lost", touch_id)
                return True
            _run(conn, cursor, _sent_sql(), [touch_id, str(token), TouchStatus.SENT])
            sent = cursor.fetchone() is not None
            _run(conn, cursor, "ROLLBACK")
            log.warning("commit point: touch %s %s", touch_id, "had committed" if sent else "was taken back")
            return sent
        except BaseException as exc:
            _discard()
            if not _is_database_error(exc) or time.monotonic() >= deadline:
                raise _as_django_error(exc) from exc
            time.sleep(0.2)


def _as_django_error(exc: BaseException) -> BaseException:
    """psycopg2's errors as Django's, like those of the ORM's connection (the dispatcher knows those)."""
    return OperationalError(str(exc)) if _is_database_error(exc) else exc


def _begin():
    """BEGIN on this thread's connection; once more on a new one if it had gone stale (the
    database restarted since): nothing was sent yet."""
    for attempt in (1, 2):
        conn = _connection()
        cursor = conn.cursor()
        try:
            _run(conn, cursor, "BEGIN")
            return conn, cursor
        except BaseException as exc:
            _discard()
            if attempt == 2 or not _is_database_error(exc):
                raise _as_django_error(exc) from exc
    raise AssertionError("unreachable")


def _is_database_error(exc: BaseException) -> bool:
    from psycopg2 import Error

    return isinstance(exc, Error)


def connection_close() -> None:
    """Close this process's commit point connections, every thread's (tests, before their database goes)."""
    with _opened_lock:
        mine = [conn for pid, conn in _opened if pid == os.getpid()]
        _opened[:] = [(pid, conn) for pid, conn in _opened if pid != os.getpid()]
    for conn in mine:
        with contextlib.suppress(Exception):
            conn.close()
    _local.conn = None


def _update_sql() -> str:
    status, sent_at = _column("status"), _column("sent_at")
    return f"UPDATE {_table()} SET {status} = %s, {sent_at} = %s WHERE {_claimed_where()}"  # noqa: S608  # nosec B608 - identifiers from our model, quoted; values are params


def _sent_sql() -> str:
    return f"SELECT 1 FROM {_table()} WHERE {_claimed_where()}"  # noqa: S608  # nosec B608 - identifiers from our model, quoted; values are params


def _claimed_where() -> str:
    """The touch (id), under this claim (token), in this status: the parameters, in that order."""
    return f"{_column('id')} = %s AND {_column('claim_token')} = %s::uuid AND {_column('status')} = %s"


def _table() -> str:
    return connection.ops.quote_name(Touch._meta.db_table)


def _column(name: str) -> str:
    return connection.ops.quote_name(Touch._meta.get_field(name).column)


def _connection():
    """This thread's asynchronous connection, opened on first use."""
    import psycopg2  # only on PostgreSQL

    conn = getattr(_local, "conn", None)
    if getattr(_local, "pid", None) != os.getpid() or conn is None or conn.closed:
        params = {k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}
        conn = psycopg2.connect(**params, async_=True)
        _wait(conn)
        _local.conn, _local.pid = conn, os.getpid()
        with _opened_lock:
            _opened.append((os.getpid(), conn))
    return conn


def _discard() -> None:
    conn, _local.conn = getattr(_local, "conn", None), None
    if conn is not None and getattr(_local, "pid", None) == os.getpid():
        with contextlib.suppress(Exception):  # already broken: nothing more to do
            conn.close()


def _run(conn, cursor, sql: str, params=None) -> None:
    cursor.execute(sql, params)
    _wait(conn)


def _wait(conn) -> None:
    """Until the connection's pending work is done (psycopg2's asynchronous protocol)."""
    from psycopg2 import extensions

    deadline = time.monotonic() + settings.DISPATCH_SEND_TIMEOUT_SECONDS
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OperationalError("the database did not answer the commit point in time")
        if state == extensions.POLL_READ:
            select.select([conn.fileno()], [], [], remaining)
        elif state == extensions.POLL_WRITE:
            select.select([], [conn.fileno()], [], remaining)

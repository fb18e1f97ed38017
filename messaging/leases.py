"""Leases on claimed touches: who holds a claim, until when, and how a live worker keeps holding it.

Every claimed touch (messaging/dispatch.py, step 1) is held until `Touch.lease_expires_at`:

- While its batch waits in the broker, for DISPATCH_QUEUE_LEASE_SECONDS from the claim (120 s): a
  batch the broker lost (Redis killed without persistence) waits that long, and so does a claim
  whose COMMIT's answer was lost with its database connection (committed, never enqueued).
- Once a worker process starts the batch (`held(token)`), the process holds it: `claimed_by` is
  "<node>/<incarnation>/<pid>" and the lease DISPATCH_LEASE_SECONDS (15 s), renewed every third
  of it by a thread of that process (`_Keeper`) for as long as the batch runs. A process that dies
  (SIGKILL, OOM) stops renewing, and so does one frozen whole; the thread also stops on purpose
  when the batch made no progress for DISPATCH_SEND_TIMEOUT_SECONDS (a provider call stuck past
  every timeout). Its touches are then free for the reconciler within one lease.
- A worker restarted under the same node name (compose's restart policy, honcho, systemd) is a new
  incarnation. `holders_superseded()` names the holders that stayed silent for 1.5 renewals while
  another incarnation of their node renewed: their process is gone, and the reconciler need not
  wait for their lease. Celery requires node names to be unique among live workers; a twin that
  is alive anyway keeps renewing, and the missed renewals are what protect it.
- Recording a sent touch (step 3) or giving it back ends the lease (NULL): a `sent` touch that
  still has one was committed and never recorded (step 5).

No prefetch (CELERY_WORKER_DISABLE_PREFETCH): a worker holds only the batches its pool processes
are running, so nothing claimed waits inside a worker where a SIGKILL would strand it unrenewed.

The lease says when the reconciler may act, never whether a touch goes out twice: a touch that
never started is taken back only by a conditional update that a starting worker would have won;
an email's commit point refuses a claim that was taken back; and an SMS whose send started is
looked up at Twilio first and sent again only when its holder is known dead or the send started
DISPATCH_SEND_TIMEOUT_SECONDS ago (messaging/dispatch.py, step 4).
"""

import contextlib
import datetime as dt
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Max, Q
from django.utils import timezone

from cadences.models import Touch, TouchStatus

log = logging.getLogger(__name__)

# Renewals a holder may miss, while another incarnation of its node renews, before it counts as gone.
MISSED_RENEWALS = 1.5

# Set in a worker's main process before it forks its pool (messaging/tasks.py, celeryd_after_setup):
# every pool process of one worker start shares the incarnation. Empty outside a worker.
_worker: dict[str, str] = {}


def worker_identity_set(*, node: str) -> None:
    _worker.update(node=node, incarnation=uuid.uuid4().hex[:12])


def holder() -> str:
    """This process as a lease holder, "<node>/<incarnation>/<pid>"; "" outside a worker."""
    if not _worker:
        return ""
    return f"{_worker['node']}/{_worker['incarnation']}/{os.getpid()}"


def _incarnation_of(claimed_by: str) -> tuple[str, str] | None:
    parts = claimed_by.rsplit("/", 2)
    return (parts[0], parts[1]) if len(parts) == 3 else None


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.DISPATCH_LEASE_SECONDS)


def renew_interval() -> float:
    return settings.DISPATCH_LEASE_SECONDS / 3


def queued_until(now: dt.datetime) -> dt.datetime:
    """The lease of a claim that waits in the broker for a worker."""
    return now + dt.timedelta(seconds=settings.DISPATCH_QUEUE_LEASE_SECONDS)


# --- The holder's side ----------------------------------------------------------------------------


def _renew(token) -> int:
    # Sent rows of the batch too, until recorded: the holder may be waiting for the server's reply.
    return Touch.objects.filter(
        claim_token=token, status__in=[TouchStatus.SENDING, TouchStatus.SENT], lease_expires_at__isnull=False
    ).update(lease_expires_at=timezone.now() + lease())


class _Keeper:
    """One thread per worker process: renews the lease of the batch the process is sending."""

    def __init__(self):
        self._lock = threading.Lock()
        self._token = None
        self._progress_at = 0.0
        self._thread: threading.Thread | None = None
        self._pid = 0

    def hold(self, token) -> None:
        with self._lock:
            self._token, self._progress_at = token, time.monotonic()
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
            self._thread.start()

    def progress(self) -> None:
        self._progress_at = time.monotonic()

    def drop(self) -> None:
        with self._lock:
            self._token = None

    def _run(self) -> None:
        while True:
            time.sleep(renew_interval())
            with self._lock:
                token, progress_at = self._token, self._progress_at
            if token is None:
                continue
            if time.monotonic() - progress_at > settings.DISPATCH_SEND_TIMEOUT_SECONDS:
                # Stuck past every transport timeout: let the lease run out, the reconciler takes over.
                log.error(
                    "claim %s: no progress for %ss, no longer renewing its lease",
                    token,
                    int(time.monotonic() - progress_at),
                )
                continue
            try:
                close_old_connections()
                _renew(token)
            except DatabaseError as exc:
                log.warning("claim %s: could not renew its lease (%s)", token, exc)
                connection.close()


_keeper = _Keeper()


@contextlib.contextmanager
def held(token) -> Iterator[None]:
    """Hold the lease on the touches of claim `token` while this worker process sends them.

    Outside a worker (tasks run inline: tests, `CELERY_TASK_ALWAYS_EAGER`) the claim's own lease
    covers the send, which ends before the call returns. If sending the batch raises (a database
    connection lost), its touches that never started are given back at once.
    """
    me = holder()
    if not me:
        yield
        return
    Touch.objects.filter(claim_token=token, status=TouchStatus.SENDING).update(
        claimed_by=me, lease_expires_at=timezone.now() + lease()
    )
    _keeper.hold(token)
    try:
        yield
    except BaseException:
        with contextlib.suppress(DatabaseError):
            released_unstarted(token)
        raise
    finally:
        _keeper.drop()


def back_in_the_broker(token) -> int:
    """The holder puts the rest of its batch back in the broker: held for the queue lease again."""
    return Touch.objects.filter(claim_token=token, status=TouchStatus.SENDING, send_started_at__isnull=True).update(
        claimed_by="", lease_expires_at=queued_until(timezone.now())
    )


def progress() -> None:
    """The batch being sent made progress (a touch is done): keep renewing its lease."""
    _keeper.progress()


# Back in the queue: what a claim given back looks like.
UNCLAIMED = {
    "status": TouchStatus.SCHEDULED,
    "claim_token": None,
    "claimed_by": "",
    "lease_expires_at": None,
    "send_started_at": None,
}


def released_unstarted(token) -> int:
    """Give back the touches of claim `token` that never started (only their holder may call this)."""
    return Touch.objects.filter(claim_token=token, status=TouchStatus.SENDING, send_started_at__isnull=True).update(
        **UNCLAIMED
    )


# --- The reconciler's side ------------------------------------------------------------------------


def _silent_since(now: dt.datetime) -> dt.datetime:
    """A lease that ends before this was last renewed more than MISSED_RENEWALS renewals ago."""
    return now + lease() - dt.timedelta(seconds=MISSED_RENEWALS * renew_interval())


def holders_superseded(now: dt.datetime) -> list[str]:
    """Holders whose process is gone: another incarnation of their worker node (it restarted)
    renewed a lease more than MISSED_RENEWALS renewals after their last one."""
    last_by_holder = dict(
        Touch.objects.filter(status__in=[TouchStatus.SENDING, TouchStatus.SENT], lease_expires_at__isnull=False)
        .exclude(claimed_by="")
        .values("claimed_by")
        .annotate(last=Max("lease_expires_at"))
        .values_list("claimed_by", "last")
    )
    last_by_incarnation: dict[tuple[str, str], dt.datetime] = {}
    for claimed_by, last in last_by_holder.items():
        incarnation = _incarnation_of(claimed_by)
        if incarnation is not None:
            last_by_incarnation[incarnation] = max(last, last_by_incarnation.get(incarnation, last))
    silence = dt.timedelta(seconds=MISSED_RENEWALS * renew_interval())
    superseded = []
    for claimed_by, last in last_by_holder.items():
        incarnation = _incarnation_of(claimed_by)
        if incarnation is None:
            continue
        # Its node renewed under another incarnation while it stayed silent: a live twin would have
        # renewed in that time too.
        if any(
            other[0] == incarnation[0] and other != incarnation and later - last > silence
            for other, later in last_by_incarnation.items()
        ):
            superseded.append(claimed_by)
    return superseded


def lapsed(now: dt.datetime, superseded: list[str]) -> Q:
    """Claims the reconciler may settle: the lease ran out, or the holder is gone and fell silent."""
    condition = Q(lease_expires_at__lt=now)
    if superseded:
        condition |= Q(claimed_by__in=superseded, lease_expires_at__lt=_silent_since(now))
    return condition

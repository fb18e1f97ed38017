"""Thin Celery tasks around messaging.dispatch and the rep alerts. Tasks take ids, never model instances.

The dispatch tasks keep their historical names ("cadences.…"): beat's schedule rows and any
message still in a broker refer to them by name.
"""

import time

from celery import shared_task
from celery.signals import celeryd_after_setup
from django.conf import settings

from messaging import dispatch, freshness, leases, retention, services, transports
from messaging.services import rep_alert_new_lead


@celeryd_after_setup.connect(dispatch_uid="messaging.worker_identity")
def _worker_identity(sender, **kwargs):
    """A worker's main process, before it forks its pool: who holds the leases it will take."""
    leases.worker_identity_set(node=sender)


# Broker priorities of batches (Redis: the lower goes first): touches that waited already (a claim
# the reconciler took back from a dead worker, a retry) go before the fresh backlog.
AGAIN_PRIORITY = 0
BACKLOG_PRIORITY = 9


@shared_task(name="cadences.dispatch_due")
def dispatch_due() -> int:
    """Beat, every few seconds: claim due automated touches in batches and fan them out to workers.

    Back-pressure: it tops the queue up to DISPATCH_MAX_IN_FLIGHT claimed-but-unstarted touches
    and no further, so a backlog waits in the database (not in Redis) and no claim sits in the
    queue long enough for its lease (DISPATCH_QUEUE_LEASE_SECONDS) to run out. Touches claimed
    before (taken back from a dead worker, retried) are claimed first and jump the queued backlog.
    First, every due touch past its freshness window is skipped as expired (messaging/freshness.py):
    after downtime, nothing stale is claimed.
    """
    freshness.touches_expire_due()
    budget = settings.DISPATCH_MAX_IN_FLIGHT - dispatch.touches_queued_count()
    claimed = 0
    for again, priority in ((True, AGAIN_PRIORITY), (False, BACKLOG_PRIORITY)):
        while budget > 0:
            ids, token = dispatch.touches_claim_due(limit=min(settings.DISPATCH_BATCH_SIZE, budget), again=again)
            if not ids:
                break
            claimed += len(ids)
            budget -= len(ids)
            touches_send.apply_async((ids, str(token)), priority=priority)
    return claimed


@shared_task(name="cadences.touches_send")
def touches_send(ids: list[int], token: str) -> dict:
    """Send one claimed batch, on the batches queue (leadfollow/celery.py). This worker process
    holds the batch's lease while it sends, renewed as long as it makes progress
    (messaging/leases.py). Acked early: a redelivery could only find its claim settled.

    A time slice: past DISPATCH_BATCH_SECONDS the rest of the batch goes back to the broker, claim
    and all, ahead of the backlog, and the pool process is free to look at the default queue, so a
    new lead's instant touches wait for at most one slice, whatever the batch size or the load.
    """
    results: dict[str, int] = {}
    in_worker = bool(leases.holder())
    slice_ends = time.monotonic() + settings.DISPATCH_BATCH_SECONDS
    # One provider session for the whole batch (one SMTP connection for its emails).
    with leases.held(token), transports.batch():
        for done, touch_id in enumerate(ids):
            if in_worker and done and time.monotonic() > slice_ends:
                leases.back_in_the_broker(token)
                touches_send.apply_async((ids[done:], token), priority=AGAIN_PRIORITY)
                results["continued"] = len(ids) - done
                break
            outcome = dispatch.touch_send(touch_id=touch_id, token=token)
            results[outcome] = results.get(outcome, 0) + 1
            leases.progress()
    return results


@shared_task(name="cadences.touches_send_now")
def touches_send_now(ids: list[int]) -> dict:
    """A new lead's instant response: claim exactly these touches and send them now."""
    claimed, token = dispatch.touches_claim(ids=ids)
    if not claimed:
        return {}
    return touches_send(claimed, str(token))


@shared_task(name="cadences.reconcile_stuck")
def reconcile_stuck() -> dict:
    """Beat, every 5 s: record what a dead worker sent, settle what it left in `sending`."""
    dispatch.touches_record_unrecorded()
    result = dispatch.touches_reconcile_stuck()
    if result["requeued"]:
        dispatch_due.delay()  # they are due: out now, not at the next tick
    return result


@shared_task(ignore_result=True)
def rep_alert_new_lead_task(lead_id: int) -> dict:
    """The rep's "New lead" alert; none for a lead older than NEW_LEAD_ALERT_WINDOW_MINUTES."""
    return rep_alert_new_lead(lead_id=lead_id)


@shared_task(name="messaging.early_status_callbacks_settle")
def early_status_callbacks_settle() -> dict:
    """Beat, every minute: apply Twilio status callbacks kept for a sid recorded since; drop stale ones."""
    return services.early_status_callbacks_settle()


@shared_task(name="messaging.touch_claims_clear")
def touch_claims_clear() -> int:
    """Beat, daily: clear the claims of touches finished long ago (messaging/retention.py)."""
    return retention.touch_claims_clear()

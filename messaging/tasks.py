"""Thin Celery tasks around messaging.dispatch and the rep alerts. Tasks take ids, never model instances.

The dispatch tasks keep their historical names ("cadences.…"): beat's schedule rows and any
message still in a broker refer to them by name.
"""

from celery import shared_task
from django.conf import settings

from messaging import dispatch, retention, services, transports
from messaging.services import rep_alert_new_lead


@shared_task(name="cadences.dispatch_due")
def dispatch_due() -> int:
    """Beat, every few seconds: claim due automated touches in batches and fan them out to workers.

    Back-pressure: it tops the queue up to DISPATCH_MAX_IN_FLIGHT claimed-but-unstarted touches
    and no further, so a backlog waits in the database (not in Redis) and no claim sits in the
    queue long enough for its lease to run out.
    """
    budget = settings.DISPATCH_MAX_IN_FLIGHT - dispatch.touches_queued_count()
    claimed = 0
    while budget > 0:
        ids, token = dispatch.touches_claim_due(limit=min(settings.DISPATCH_BATCH_SIZE, budget))
        if not ids:
            break
        claimed += len(ids)
        budget -= len(ids)
        touches_send.delay(ids, str(token))
    return claimed


@shared_task(name="cadences.touches_send")
def touches_send(ids: list[int], token: str) -> dict:
    results: dict[str, int] = {}
    # One provider session for the whole batch (one SMTP connection for its emails).
    with transports.batch():
        for touch_id in ids:
            outcome = dispatch.touch_send(touch_id=touch_id, token=token)
            results[outcome] = results.get(outcome, 0) + 1
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
    dispatch.touches_record_unrecorded()
    return dispatch.touches_reconcile_stuck()


@shared_task(ignore_result=True)
def rep_alert_new_lead_task(lead_id: int) -> None:
    rep_alert_new_lead(lead_id=lead_id)


@shared_task(name="messaging.early_status_callbacks_settle")
def early_status_callbacks_settle() -> dict:
    """Beat, every minute: apply Twilio status callbacks kept for a sid recorded since; drop stale ones."""
    return services.early_status_callbacks_settle()


@shared_task(name="messaging.touch_claims_clear")
def touch_claims_clear() -> int:
    """Beat, daily: clear the claims of touches finished long ago (messaging/retention.py)."""
    return retention.touch_claims_clear()

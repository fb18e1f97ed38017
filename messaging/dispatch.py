"""Dispatch of automated touches (email, SMS): claim, send, record, reconcile.

The Touch table is the queue and the database is the source of truth; Redis only carries
batches of touch ids. The states of an automated touch:

    scheduled ──claim──▶ sending ──commit point──▶ sent ──(status callback)──▶ delivered
        ▲                  │  │
        └── temporary ─────┘  └── permanent error ──▶ failed (+ a task for the rep)
            error, backoff

1. Claim (`touches_claim_due`, `touches_claim`): in one short transaction, due rows are locked
   with SELECT … FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite serialises writers) and moved to
   `sending` with a fresh claim token. Two dispatchers (or two beats) never claim the same row.
   Every claim has a lease (messaging/leases.py): while its batch waits in the broker,
   DISPATCH_QUEUE_LEASE_SECONDS (120 s); the worker process that starts the batch holds it for
   DISPATCH_LEASE_SECONDS (15 s), renewed every third of that while the batch makes progress.
   Workers prefetch nothing, so a worker holds only what its pool processes are sending; a batch
   runs for at most DISPATCH_BATCH_SECONDS, then its rest goes back to the broker, claim and all,
   so a new lead's instant touches (on the default queue, read first) wait for at most that.
2. Send (`touch_send`): a task holding the current token marks the touch as started
   (`send_started_at`, only if nobody started it before), renders it, checks consent and quiet
   hours again, and calls the transport with a commit point (messaging/commit_point.py): the
   callback that moves the row to `sent`. The transport calls it at the moment the provider is
   about to accept:
   - SMTP (two-phase): after the whole message is transmitted but before the final ".", so a
     crash before the commit point leaves nothing delivered and a crash after leaves `sent`; on
     PostgreSQL the "." is written right behind the COMMIT, before its answer is awaited.
   - Twilio: right after the API accepted the message (HTTP 201).
   A touch whose message cannot be rendered or built (a template tag that raises, a line break
   in a header) fails with the reason and a task for the rep, before any provider sees it.
   Never stale, never a burst (messaging/freshness.py): each tick first skips the due touches past
   their freshness window as "expired", and so does `touch_send` for one it finds expired once it
   holds the claim; the per-channel daily cap is counted under the lead's row lock in the short
   transaction that marks the start, and a capped touch goes back to `scheduled` for the lead's
   next local day, never started, so the claim and the reconciler are unaffected.
3. Record: the provider's id, a Message row and a timeline entry.
4. Reconcile (`touches_reconcile_stuck`, every 5 s): a touch in `sending` whose lease lapsed (a
   dead or frozen worker, a batch the broker lost) or whose holder is known gone (its worker node
   restarted since: `leases.holders_superseded`) is settled, every one of them, `RECONCILE_CHUNK`
   at a time until none is left:
   - Never started: back to `scheduled`, in one conditional update that a worker starting it
     first would have won. The next dispatch (right away) claims it before the fresh backlog.
   - Started: the provider is asked whether it accepted it (`transports.lookup_sent`: Twilio's
     message list; an unfinished two-phase SMTP send never was). If so, the touch becomes `sent`.
     If not, an email goes back to `scheduled`: its commit point refuses the old claim, so its old
     holder can no longer deliver it. An SMS goes back only once its holder is known gone or its
     send started DISPATCH_SEND_TIMEOUT_SECONDS (120 s) ago: Twilio has no commit point before it
     accepts, and a holder that is only frozen could still send it when it wakes up.
5. Record the unrecorded (`touches_record_unrecorded`): a worker killed between the commit point
   and step 3 leaves a `sent` touch with no Message row, timeline entry or finished enrolment, and
   still holding its lease (recording ends it); once the lease lapsed or its holder is known gone,
   the reconciler records it (step 3 is idempotent: a row lock and once-only rows).
   An email recorded this way is marked "Delivery not confirmed": the worker may have died before
   the final "." (the gap below).

The guarantee: each automated touch is accepted by the provider at most once and, while its
lead still consents, eventually at least once. The only gap is a crash between the COMMIT of the
SMTP commit point and the write of the final "." (messaging/commit_point.py): on PostgreSQL the
microseconds between two writes to two sockets, since nothing waits between them; on another
database, the wait for the COMMIT's answer. The email is then recorded as sent but never
delivered, and the reconciler marks it "Delivery not confirmed". (Before the "." followed the
COMMIT without waiting for its answer, a worker killed mid-batch hit that wait often enough to
fail tests/cadences/test_worker_dispatch.py about one run in five.) An SMS whose send started and that Twilio
accepts more than DISPATCH_SEND_TIMEOUT_SECONDS later (a worker frozen that long between marking the
start and its request reaching Twilio) could be sent twice; that is many times the transports'
timeouts. An email whose COMMIT's answer died with its database connection after the "." went
out is committed again on a new connection while its sender still holds the claim; only a database
away for longer than half a lease leaves it `sending`, to be sent again (messaging/commit_point.py).
The lease only decides how soon the reconciler acts, never whether a touch goes twice.

Recovery: a worker SIGKILLed mid-batch strands only the batches it was sending (no prefetch). Once
it restarts under its node name they are taken back 1.5 renewals (7.5 s) after its last renewal,
else when its lease lapses (15 s), plus a reconciler tick, and dispatched ahead of the backlog:
tests/reliability/test_recovery.py asserts all of them sent within 30 s of the kill, and a new
lead's auto-responder within 5 s meanwhile.
"""

import datetime as dt
import logging
import uuid
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cadences.models import Channel, Touch, TouchStatus
from cadences.rendering import render_text
from cadences.scheduling import allowed_moment, contact_allowed, contact_windows, first_moment_in_all
from cadences.services import (
    consent_skip_reason,
    enrollment_complete_if_done,
    schedule_rules_for,
    task_create,
    touch_label,
)
from leads.models import Lead, LeadEvent
from leads.timeline import lead_event_add
from messaging import appointment_messages, freshness, leases, transports
from messaging.commit_point import TouchCommitPoint
from messaging.models import Message
from messaging.reply_address import reply_to_for
from messaging.signals import provider_message_id_recorded
from messaging.suppressions import suppression_record, suppression_skip_reason
from messaging.unsubscribe import unsubscribe_url

log = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
# How far back the reconciler looks for touches sent but never recorded (step 5).
UNRECORDED_LOOKBACK = dt.timedelta(days=1)
# The reconciler settles stuck touches this many at a time, until none is left.
RECONCILE_CHUNK = 200

# A touch whose message could not be rendered or built (ours), or that the provider refused as malformed.
UNBUILDABLE = "unbuildable"
NOT_BUILT_CODES = {UNBUILDABLE, "invalid_message"}
# Permanent SMS failures and what they mean for the lead's number.
SMS_OPTED_OUT_CODES = {"21610"}
SMS_UNUSABLE_CODES = {"21211", "21614", "21612", "21408", "30006", "30003", "30005"}


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff: 30 s, 60 s, 120 s … capped at an hour; a provider's Retry-After wins if longer."""
    delay = min(BACKOFF_BASE_SECONDS * 2 ** max(attempt - 1, 0), BACKOFF_MAX_SECONDS)
    return max(delay, retry_after or 0)


def _claim(queryset, *, now, limit) -> tuple[list[int], uuid.UUID | None]:
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            queryset.select_for_update(skip_locked=True).order_by("due_at", "id").values_list("id", flat=True)[:limit]
        )
        if not ids:
            return [], None
        Touch.objects.filter(id__in=ids, status=TouchStatus.SCHEDULED).update(
            status=TouchStatus.SENDING,
            claimed_at=now,
            claim_token=token,
            claimed_by="",
            lease_expires_at=leases.queued_until(now),
            send_started_at=None,
            send_attempts=F("send_attempts") + 1,
        )
    return ids, token


def touches_claim_due(*, now: dt.datetime | None = None, limit: int | None = None, again: bool | None = None):
    """Claim up to `limit` automated touches due at `now`. Returns (ids, token).

    `again`: only touches claimed before (a claim the reconciler took back, a retry) or only never
    claimed ones; None: both."""
    now = now or timezone.now()
    due = Touch.objects.due_automated(now)
    if again is not None:
        due = due.filter(send_attempts__gt=0) if again else due.filter(send_attempts=0)
    return _claim(due, now=now, limit=limit or settings.DISPATCH_BATCH_SIZE)


def touches_queued_count() -> int:
    """Claimed touches no worker has started yet: what is waiting in the broker."""
    return Touch.objects.filter(status=TouchStatus.SENDING, send_started_at__isnull=True).count()


def touches_claim(*, ids: list[int], now: dt.datetime | None = None):
    """Claim these touches if they are still scheduled and due (a new lead's instant response)."""
    now = now or timezone.now()
    due = Touch.objects.due_automated(now).filter(id__in=ids)
    return _claim(due, now=now, limit=len(ids))


def _mine(touch_id: int, token) -> Q:
    return Q(pk=touch_id, claim_token=token)


_KEEP = object()


def _release(touch_id, token, *, due_at, reason="", status=TouchStatus.SCHEDULED, expires_at=_KEEP) -> int:
    """Give a claimed touch back (rescheduled, skipped or failed); only the claim holder can.
    `expires_at`: its new freshness deadline when a rule deferred it (messaging/freshness.py)."""
    deadline = {} if expires_at is _KEEP else {"expires_at": expires_at}
    return Touch.objects.filter(_mine(touch_id, token), status__in=[TouchStatus.SENDING, TouchStatus.SENT]).update(
        status=status,
        due_at=due_at,
        claim_token=None,
        claimed_by="",
        lease_expires_at=None,
        send_started_at=None,
        failure_reason=reason[:500],
        **deadline,
    )


# Failures of the environment rather than of one touch (see outgoing_message_or_problem).
ENVIRONMENT_ERRORS = (DatabaseError, ImportError, ImproperlyConfigured, OSError, MemoryError)


class MessageNotBuildable(ValueError):
    """A touch whose message cannot be built as it stands (its str() is the reason shown to the rep)."""


def written_by_rep(touch: Touch) -> bool:
    """A touch a rep wrote in the app (reactions.rep_messages): its own text, a human's answer."""
    return bool(touch.body) and not touch.appointment_id


def _rep_answer_headers(touch: Touch, rep) -> dict:
    """From the rep by name at our address (the envelope stays ours), threaded under the lead's last email."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    # No line break, control character or run of spaces from a name typed in a profile.
    typed = rep.get_full_name() if rep else ""
    name = " ".join("".join(c if c.isprintable() else " " for c in typed).split())
    headers = {"From": formataddr((name or settings.ORGANIZATION_NAME, address))}
    if touch.in_reply_to:
        headers["In-Reply-To"] = touch.in_reply_to
        headers["References"] = touch.in_reply_to
    return headers


def outgoing_message_for(touch: Touch) -> transports.OutgoingMessage:
    """Render a touch into what the transport sends: the step's template for this lead and rep."""
    if touch.appointment_id:
        return appointment_messages.appointment_message_for(touch)  # an invite or a reminder
    lead, rep, step = touch.lead, touch.lead.owner, touch.step
    written = written_by_rep(touch)
    if written:
        # A rep's own answer: rendered when it was written (the rep saw what goes), signed by them.
        rep = touch.assigned_to or rep
        body = touch.body
    else:
        body = render_text(step.body if step else "", lead=lead, rep=rep)
    if touch.channel == Channel.SMS:
        return transports.OutgoingMessage(channel="sms", to=lead.phone, body=body, touch_id=touch.pk, lead_id=lead.pk)
    if written:
        subject = touch.subject or f"Re: {lead.first_name}"
    else:
        subject = render_text(step.subject if step else "", lead=lead, rep=rep) or f"Following up, {lead.first_name}"
    link = unsubscribe_url(lead=lead)
    footer = (
        f"\n\n--\n{rep.get_full_name() if rep else settings.ORGANIZATION_NAME}\n"
        f"{settings.ORGANIZATION_NAME}, {settings.ORGANIZATION_POSTAL_ADDRESS}\n"
        f"Don't want these emails? Unsubscribe: {link}"
    )
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ")
    headers = {
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        # Replies carry the lead's token back (messaging/reply_address.py), even when threading is lost.
        "Reply-To": reply_to_for(lead.pk),
    }
    if written:
        headers.update(_rep_answer_headers(touch, rep))
    for name, value in {"subject": subject, "address": lead.email, **headers}.items():
        if "\n" in value or "\r" in value:
            # A lead saved with a line break in its name (before the input rule, or by hand in the admin).
            raise MessageNotBuildable(f"the {name} would contain a line break: fix the lead's details or the step")
    return transports.OutgoingMessage(
        channel="email",
        to=lead.email,
        subject=subject,
        body=body + footer,
        touch_id=touch.pk,
        lead_id=lead.pk,
        message_id=f"<touch-{touch.pk}@{domain}>",
        headers=headers,
    )


def outgoing_message_or_problem(touch: Touch) -> tuple[transports.OutgoingMessage | None, str]:
    """The touch's message, or None and why it cannot be built.

    Whatever rendering and building raise is the touch's own problem (a template tag that fails
    when rendered, a line break in a header): retrying cannot help, so the callers fail the touch
    with the reason instead of letting the exception out of the worker. A broken environment is
    not the touch's problem (the database, a module or setting that fails to load, the disk): it
    would fail every touch alike, so it propagates, the claim stays, and the lease and the
    reconciler settle the touch once the environment is mended.
    """
    try:
        return outgoing_message_for(touch), ""
    except ENVIRONMENT_ERRORS:
        raise
    except Exception as exc:
        # The exception's text may quote the lead's details: it goes to the touch, not to the log.
        log.warning("touch %s: its message cannot be built (%s)", touch.pk, type(exc).__name__)
        detail = str(exc) if isinstance(exc, MessageNotBuildable) else f"{type(exc).__name__}: {exc}"
        return None, f"The message could not be built: {detail}"[:500]


def _consent_problem(touch: Touch) -> str:
    # The lead's own flags, then the person's: a number or address opted out on any lead (one query).
    return consent_skip_reason(touch.lead, touch.channel, True) or suppression_skip_reason(touch.lead, touch.channel)


# An SMS waiting for its lead's zone to be confirmed is looked at again this often: once a rep
# confirms it, the text goes inside the confirmed zone's window within the hour.
ZONE_UNCONFIRMED_RECHECK = dt.timedelta(hours=1)
ZONE_CONFIRM_TASK_TITLE = "Confirm the lead's timezone: texts wait until then"


def _quiet_until(touch: Touch, now: dt.datetime) -> dt.datetime | None:
    """For SMS: None if it may go now, else when to look at it again.

    It may go only inside the contact window in every zone the lead may be in (one zone once it
    is known; cadences.scheduling, rule 3), else it waits for the next moment inside all of them.
    When those windows never meet, it waits for the zone to be confirmed: looked at again every
    ZONE_UNCONFIRMED_RECHECK, and the lead's rep gets one task to confirm the zone.
    """
    if touch.channel != Channel.SMS:
        return None
    rules = schedule_rules_for(lead=touch.lead)
    if contact_allowed(now, rules):
        return None
    opens = first_moment_in_all(now, contact_windows(rules))
    if opens is not None:
        return opens
    _zone_confirm_task_ensure(lead=touch.lead, rules=rules, now=now)
    return now + ZONE_UNCONFIRMED_RECHECK


def _zone_confirm_task_ensure(*, lead: Lead, rules, now: dt.datetime) -> None:
    with transaction.atomic():
        # The lead's row lock: two workers holding two of its texts leave one task.
        Lead.objects.select_for_update().filter(pk=lead.pk).values_list("pk", flat=True).first()
        if Touch.objects.open_tasks().filter(lead=lead, title=ZONE_CONFIRM_TASK_TITLE).exists():
            return
        due = allowed_moment(now, channel=Channel.TASK, automated=False, rules=rules)
        task_create(lead=lead, title=ZONE_CONFIRM_TASK_TITLE, channel=Channel.TASK, due_at=due)


def touch_send(*, touch_id: int, token) -> str:
    """Send one claimed touch. Returns what happened ("sent", "stale", "skipped", "expired", "retry",
    "failed", "quiet", "capped")."""
    token = uuid.UUID(str(token))
    touch = (
        Touch.objects.select_related("lead", "lead__owner", "step", "assigned_to")
        .filter(_mine(touch_id, token), status=TouchStatus.SENDING, send_started_at__isnull=True)
        .first()
    )
    if touch is None:
        return "stale"
    now = timezone.now()
    if freshness.is_expired(touch, now):
        # Claimed just before its window closed (the tick skips the rest): skipped, never sent late.
        if not _release(touch_id, token, due_at=touch.due_at, reason=freshness.EXPIRED, status=TouchStatus.SKIPPED):
            return "stale"
        freshness.touch_expired_record(touch, now=now)
        return "expired"
    problem = _consent_problem(touch)
    if problem:
        _release(touch_id, token, due_at=touch.due_at, reason=problem, status=TouchStatus.SKIPPED)
        enrollment_complete_if_done(enrollment_id=touch.enrollment_id)
        return "skipped"
    # A rep's own answer goes now, a human answering a human: quiet hours and the daily cap are the
    # cadence's (README "Reps answer from the app"); consent was checked above, as for any touch.
    written = written_by_rep(touch)
    quiet_until = None if written else _quiet_until(touch, now)
    if quiet_until is not None:
        # Waiting for the contact window (or for a rep to confirm the zone) is no lateness: the
        # freshness window counts again from when it may go.
        deadline = freshness.expires_at_when_deferred(touch, quiet_until)
        _release(
            touch_id, token, due_at=quiet_until, reason="Outside the recipient's contact hours", expires_at=deadline
        )
        return "quiet"
    message, problem = outgoing_message_or_problem(touch)
    if message is None:
        return _fail_unbuildable(touch, token, reason=problem)
    with transaction.atomic():
        # The lead's row lock serialises the cap checks of its touches (two in one batch, two
        # workers): the count sees every send of the lead started before this one.
        Lead.objects.select_for_update().filter(pk=touch.lead_id).values_list("pk", flat=True).first()
        if not written and freshness.cap_reached(touch, now):
            return _defer_capped(touch, token, now=now)
        # Only under a live lease: a claim that ran out is the reconciler's to settle.
        started = Touch.objects.filter(
            _mine(touch_id, token), status=TouchStatus.SENDING, send_started_at__isnull=True, lease_expires_at__gt=now
        ).update(send_started_at=now)
    if not started:
        return "stale"

    try:
        result = transports.send(message, commit_point=TouchCommitPoint(touch_id, token))
    except transports.TransportError as exc:
        return _handle_failure(touch, token, exc, message=message)
    touch_record_sent(touch=touch, token=token, message=message, result=result)
    return "sent"


def _defer_capped(touch: Touch, token, *, now: dt.datetime) -> str:
    """The lead had its messages on this channel today: the touch goes back to wait for its next
    local day, with a freshness window from then (messaging/freshness.py, rule 3)."""
    due = freshness.next_day_slot(touch, now)
    deadline = freshness.expires_at_when_deferred(touch, due)
    if not _release(touch.pk, token, due_at=due, reason=freshness.cap_reason(touch.channel), expires_at=deadline):
        return "stale"
    log.info(
        "touch %s: frequency cap reached for lead %s on %s, due again at %s",
        touch.pk,
        touch.lead_id,
        touch.channel,
        due,
    )
    return "capped"


def touch_record_sent(*, touch: Touch, token, message, result) -> None:
    """After the provider accepted: keep its id, the message and a timeline line; count the send.

    All or nothing, and once only: the worker and the reconciler may both record the same touch.
    Twilio's status callbacks that came before the id was recorded were kept; the signal has
    messaging.services apply them, in the same transaction.
    """
    with transaction.atomic():
        # The row lock serialises two recorders; the second finds the Message and the event.
        Touch.objects.select_for_update().filter(pk=touch.pk).values_list("pk", flat=True).first()
        _record_sent(touch=touch, token=token, message=message, result=result)
        if message.channel == "sms" and result.provider_message_id:
            provider_message_id_recorded.send(sender=Touch, sid=result.provider_message_id[:200])


def _record_sent(*, touch: Touch, token, message, result) -> None:
    now = timezone.now()
    updated = Touch.objects.filter(
        pk=touch.pk, claim_token=token, status__in=[TouchStatus.SENDING, TouchStatus.SENT]
    ).update(
        status=TouchStatus.SENT,
        provider_message_id=result.provider_message_id[:200],
        # Keep the commit point's time: that is when the provider was about to accept it.
        sent_at=Coalesce(F("sent_at"), Value(now)),
        failure_reason="",
        lease_expires_at=None,  # recorded: the claim is over
    )
    if not updated:
        Touch.objects.filter(pk=touch.pk, sent_at__isnull=True).update(sent_at=now)
        Touch.objects.filter(pk=touch.pk, status=TouchStatus.SENT).exclude(lease_expires_at=None).update(
            lease_expires_at=None
        )
    row, created = Message.objects.get_or_create(
        direction=Message.Direction.OUTBOUND,
        touch_id=touch.pk,
        defaults={
            "channel": message.channel,
            "lead_id": touch.lead_id,
            "to": message.to,
            "sender": settings.TWILIO_FROM_NUMBER if message.channel == "sms" else settings.DEFAULT_FROM_EMAIL,
            "subject": message.subject,
            "body": message.body,
            "provider_message_id": result.provider_message_id[:200],
            "message_id": message.message_id[:500] if message.channel == "email" else "",
            "status": Message.Status.OUTBOX if result.status == "outbox" else Message.Status.SENT,
        },
    )
    if not created and result.provider_message_id and not row.provider_message_id:
        Message.objects.filter(pk=row.pk).update(provider_message_id=result.provider_message_id[:200])
    if LeadEvent.objects.filter(lead_id=touch.lead_id, kind=LeadEvent.Kind.MESSAGE_OUT, data__touch=touch.pk).exists():
        return  # recorded before
    Lead.objects.filter(pk=touch.lead_id).update(last_touch_at=now)
    what = "SMS" if message.channel == "sms" else f"Email “{message.subject}”"
    lead_event_add(
        lead_id=touch.lead_id,
        kind=LeadEvent.Kind.MESSAGE_OUT,
        text=f"{touch_label(touch)}: {what} {'queued in the outbox' if result.status == 'outbox' else 'sent'}",
        at=now,
        data={"touch": touch.pk, "provider_message_id": result.provider_message_id},
    )
    enrollment_complete_if_done(enrollment_id=touch.enrollment_id)


def _handle_failure(touch: Touch, token, exc: "transports.TransportError", *, message) -> str:
    now = timezone.now()
    attempts = Touch.objects.filter(pk=touch.pk).values_list("send_attempts", flat=True).first() or 1
    if not exc.permanent and exc.code == "claim_lost":
        return "stale"
    if exc.code == "outcome_unknown" and exc.after_commit:
        # The SMTP server may well have accepted it and we already said "sent": never resend.
        touch_record_sent(touch=touch, token=token, message=message, result=transports.ProviderResult("", "sent"))
        Touch.objects.filter(pk=touch.pk).update(failure_reason=f"Delivery not confirmed: {exc.reason}"[:500])
        return "sent"
    if not exc.permanent and exc.code == "outcome_unknown":
        # The provider may have accepted it: leave the claim for the reconciler, which asks first.
        log.warning("touch %s: outcome unknown (%s), left to the reconciler", touch.pk, exc.reason)
        return "unknown"
    if not exc.permanent and attempts < MAX_SEND_ATTEMPTS:
        retry_at = now + dt.timedelta(seconds=backoff_seconds(attempts, exc.retry_after))
        _release(touch.pk, token, due_at=retry_at, reason=f"Retrying: {exc.reason}")
        log.warning("touch %s: temporary failure (%s), retry at %s", touch.pk, exc.reason, retry_at)
        return "retry"
    reason = exc.reason if exc.permanent else f"Gave up after {attempts} attempts: {exc.reason}"
    if not _release(touch.pk, token, due_at=touch.due_at, reason=reason, status=TouchStatus.FAILED):
        return "stale"
    touch_fail_permanently(touch=touch, code=exc.code, reason=reason)
    return "failed"


def _fail_unbuildable(touch: Touch, token, *, reason: str) -> str:
    """A claimed touch whose message cannot be built: no provider saw it; it fails with the reason."""
    if not _release(touch.pk, token, due_at=touch.due_at, reason=reason, status=TouchStatus.FAILED):
        return "stale"
    touch_fail_permanently(touch=touch, code=UNBUILDABLE, reason=reason)
    return "failed"


def touch_fail_permanently(*, touch: Touch, code: str, reason: str) -> None:
    """A touch the provider refused for good: flag the lead's channel and give the rep a task.

    A message that could not be built (UNBUILDABLE, or the provider's "invalid_message") says
    nothing about the number or the address: nothing is flagged, the rep is asked to fix it.
    """
    lead = touch.lead
    code = str(code or "")
    task_channel = Channel.CALL
    if code in NOT_BUILT_CODES:
        what = "text" if touch.channel == Channel.SMS else "email"
        fix = f"The automated {what} could not be built: check the lead's details and the step, then write yourself"
        task_channel = touch.channel
    elif touch.channel == Channel.SMS:
        if code in SMS_OPTED_OUT_CODES:
            Lead.objects.filter(pk=lead.pk).update(sms_opt_out=True)
            # The carrier says the number itself opted out: for every lead with it.
            suppression_record(
                channel="sms", address=lead.phone, opted_out=True, source=f"Twilio error {code}", lead=lead
            )
            fix = "The number opted out of SMS: call instead"
        else:
            Lead.objects.filter(pk=lead.pk).update(sms_unusable=True)
            fix = "SMS failed (number cannot receive texts): call instead or fix the number"
        Touch.objects.filter(lead=lead, channel=Channel.SMS, automated=True, status=TouchStatus.SCHEDULED).update(
            status=TouchStatus.SKIPPED, failure_reason=reason[:500]
        )
    else:
        if code in ("hard_bounce", "bounce", "complaint") or code.startswith("5"):
            Lead.objects.filter(pk=lead.pk).update(email_invalid=True)
        fix = "Email bounced: find a working address or call"
    lead_event_add(
        lead=lead,
        kind=LeadEvent.Kind.TOUCH,
        text=f"{touch_label(touch)} failed: {reason}",
        at=timezone.now(),
        data={"touch": touch.pk, "code": code},
    )
    if written_by_rep(touch):
        what = "text" if touch.channel == Channel.SMS else "email"
        fix = f"Your {what} did not go out ({reason[:80]}): {fix[0].lower()}{fix[1:]}"
        task_create(lead=lead, title=fix, channel=task_channel, urgent=True, assigned_to=touch.assigned_to)
    else:
        task_create(lead=lead, title=fix, channel=task_channel, urgent=False)
    enrollment_complete_if_done(enrollment_id=touch.enrollment_id)


def _after(last: Touch | None) -> Q:
    """Keyset pagination over (lease_expires_at, id): the rows after `last`."""
    if last is None:
        return Q()
    return Q(lease_expires_at__gt=last.lease_expires_at) | Q(lease_expires_at=last.lease_expires_at, id__gt=last.pk)


def touches_reconcile_stuck(*, now: dt.datetime | None = None, chunk: int = RECONCILE_CHUNK) -> dict:
    """Settle every touch in `sending` whose claim lapsed (module docstring, step 4), `chunk` at a
    time until none is left."""
    now = now or timezone.now()
    superseded = leases.holders_superseded(now)
    lapsed = leases.lapsed(now, superseded)
    counts = {"stuck": 0, "found_sent": 0, "requeued": 0}
    waiting = 0
    last = None
    while True:
        stuck = list(
            Touch.objects.select_related("lead", "lead__owner", "step", "assigned_to")
            .filter(lapsed, _after(last), status=TouchStatus.SENDING)
            .order_by("lease_expires_at", "id")[:chunk]
        )
        if not stuck:
            break
        last = stuck[-1]
        counts["stuck"] += len(stuck)
        # Never started: the provider never saw them. One conditional update for the lot: a worker
        # that starts one first wins it, and a holder that renewed in between keeps it.
        counts["requeued"] += Touch.objects.filter(
            lapsed,
            pk__in=[t.pk for t in stuck if t.send_started_at is None],
            status=TouchStatus.SENDING,
            send_started_at__isnull=True,
        ).update(**leases.UNCLAIMED)
        for touch in stuck:
            if touch.send_started_at is not None:
                outcome = _settle_started(touch, now=now, lapsed=lapsed, holder_gone=touch.claimed_by in superseded)
                if outcome in counts:
                    counts[outcome] += 1
                else:
                    waiting += 1
    if counts["stuck"]:
        log.warning(
            "reconciled %s stuck touches: %s already sent, %s requeued, %s waiting",
            counts["stuck"],
            counts["found_sent"],
            counts["requeued"],
            waiting,
        )
    return counts


def _settle_started(touch: Touch, *, now: dt.datetime, lapsed: Q, holder_gone: bool) -> str:
    """A stuck touch whose send had started: ask the provider before anything else."""
    token = touch.claim_token
    message, problem = outgoing_message_or_problem(touch)
    if message is None:
        # Built when it started, not buildable now: the provider cannot be asked. Never resent blindly.
        _fail_unbuildable(touch, token, reason=f"Not sent again (it may have gone out): {problem}")
        return "failed"
    try:
        result = transports.lookup_sent(message, since=touch.claimed_at - dt.timedelta(seconds=5))
    except transports.TransportError as exc:
        log.warning("touch %s: cannot ask the provider yet (%s)", touch.pk, exc.reason)
        return "waiting"
    if result is not None:
        touch_record_sent(touch=touch, token=token, message=message, result=result)
        return "found_sent"
    # Not there. An email's commit point refuses a claim taken back, so its holder can no longer
    # deliver it. Twilio has no such point: an SMS goes again only once its holder is known gone or
    # its send started longer ago than any provider call lasts.
    sent_long_ago = touch.send_started_at < now - dt.timedelta(seconds=settings.DISPATCH_SEND_TIMEOUT_SECONDS)
    if touch.channel == Channel.SMS and not (holder_gone or sent_long_ago):
        return "waiting"
    requeued = Touch.objects.filter(
        lapsed, _mine(touch.pk, token), status=TouchStatus.SENDING, send_started_at=touch.send_started_at
    ).update(**leases.UNCLAIMED)
    return "requeued" if requeued else "waiting"


def touches_record_unrecorded(*, now: dt.datetime | None = None, chunk: int = RECONCILE_CHUNK) -> int:
    """Record touches committed as `sent` whose worker died before recording them (module docstring,
    step 5): those that still hold a lapsed lease, `chunk` at a time until none is left."""
    now = now or timezone.now()
    lapsed = leases.lapsed(now, leases.holders_superseded(now))
    recorded = Message.objects.filter(touch_id=OuterRef("pk"), direction=Message.Direction.OUTBOUND)
    total = 0
    last = None
    while True:
        unrecorded = list(
            Touch.objects.select_related("lead", "lead__owner", "step", "assigned_to")
            .filter(
                lapsed,
                _after(last),
                ~Exists(recorded),
                status=TouchStatus.SENT,
                lease_expires_at__isnull=False,
                automated=True,
                claim_token__isnull=False,
                sent_at__gte=now - UNRECORDED_LOOKBACK,
            )
            .order_by("lease_expires_at", "id")[:chunk]
        )
        if not unrecorded:
            break
        last = unrecorded[-1]
        total += len(unrecorded)
        for touch in unrecorded:
            _record_unrecorded(touch)
    if total:
        log.warning("recorded %s touches sent by a worker that died before recording them", total)
    return total


def _record_unrecorded(touch: Touch) -> None:
    message, problem = outgoing_message_or_problem(touch)
    if message is None:
        # Sent, but its step or lead changed since and it no longer renders: record what is known.
        message = transports.OutgoingMessage(
            channel=touch.channel,
            to=touch.lead.phone if touch.channel == Channel.SMS else touch.lead.email,
            body=f"({problem})",
            touch_id=touch.pk,
            lead_id=touch.lead_id,
        )
    result = transports.ProviderResult(touch.provider_message_id or message.message_id, "sent")
    if not result.provider_message_id and message.channel == "sms":
        try:  # Twilio's id, for its status callbacks; the touch is recorded either way
            result = transports.lookup_sent(message, since=touch.claimed_at - dt.timedelta(seconds=5)) or result
        except transports.TransportError:
            pass
    touch_record_sent(touch=touch, token=touch.claim_token, message=message, result=result)
    if message.channel == "email":
        # Twilio had accepted before the commit point; an SMTP server may not have got the final ".".
        Touch.objects.filter(pk=touch.pk).update(
            failure_reason="Delivery not confirmed: the worker stopped after the commit point"
        )

"""A rep answers a lead from the app: an email or a text written on the lead page or from Today.

The answer is a Touch like any automated one (automated, due now, no enrolment, the rep's own
subject and body stored rendered), so it goes through dispatch's claim, lease and commit point
(messaging.dispatch) and reaches the provider exactly once even when a worker dies mid-send. The
recipe:

1. the rep may work the lead (the leads they see; for a task, cadences.services.touch_may_be_worked_by);
2. the lead may receive it: not opted out or suppressed on the channel, an address that did not
   bounce, a number that can take texts. A closed lead may still be answered: a lead who writes
   after closing deserves an answer, and consent is what the law and the lead ask us to respect;
3. merge fields are rendered for the lead and the rep now; an unknown one is refused;
4. an email threads under the lead's last email, in or out (Message.message_id);
5. a manual email/SMS step answered this way is done with outcome "Sent" (reactions.outcomes:
   one attempt, the cadence advances as when "Sent" is clicked), in the same transaction. Written
   from the lead page, the answer does the lead's open task on that channel (the "Reply received —
   answer now" task, or the step Today shows), so Today moves on; with none, it is logged as an
   attempt of its own (a done email/text task): a rep's own message is a real attempt;
6. on commit the touch is handed to the workers at once (messaging.tasks.touches_send_now);
7. the compose form's key (`key`, Touch.send_key) makes a second post of the same form (a double
   click, a browser resending after a timeout) answer with the touch the first one made: nothing
   more is sent, no second attempt is counted.

A send that later fails for good is dispatch's to report: the touch fails with the reason on the
lead's timeline, the lead's channel is flagged as for any touch, and the rep who wrote it gets an
urgent task saying the message did not go out (messaging.dispatch.touch_fail_permanently). The
completed step stays done: the attempt was made; the task is the rep's next step.
"""

import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cadences.models import Channel, Outcome, Touch, TouchPurpose
from cadences.rendering import render_text, template_errors
from cadences.services import consent_skip_reason, task_create, touch_may_be_worked_by
from leads.models import Lead
from leads.selectors import leads_visible_to
from messaging.models import Message
from messaging.suppressions import suppression_skip_reason
from messaging.tasks import touches_send_now
from reactions.outcomes import touch_complete

CHANNELS = (Channel.EMAIL, Channel.SMS)
SUBJECT_MAX = 300
EMAIL_BODY_MAX = 20000
# Ten segments: Twilio refuses more than 1600 characters.
SMS_BODY_MAX = 1600


def lead_answer_problem(*, lead: Lead, channel: str) -> str:
    """Why the lead cannot be written to on `channel` now ("" if it can): shown before the rep types."""
    if channel not in CHANNELS:
        return "Only email and text can be sent from the app."
    return consent_skip_reason(lead, channel, True) or suppression_skip_reason(lead, channel)


def lead_last_email_message_id(*, lead: Lead) -> str:
    """The Message-ID of the lead's latest email, in or out: a rep's email answers it."""
    return (
        Message.objects.filter(lead=lead, channel="email")
        .exclude(message_id="")
        .order_by("-created_at", "-id")
        .values_list("message_id", flat=True)
        .first()
        or ""
    )


def _open_task_answered(*, lead: Lead, channel: str, by) -> Touch | None:
    """The lead's open task on `channel` that `by` may work, the one Today would show first."""
    tasks = Touch.objects.open_tasks().filter(lead=lead, channel=channel).exclude(purpose=TouchPurpose.APPOINTMENT)
    for task in tasks.order_by("-urgent", "due_at", "id"):
        if touch_may_be_worked_by(touch=task, user=by):
            return task
    return None


def _rendered(text: str, *, field: str, lead: Lead, by) -> str:
    errors = template_errors(text)
    if errors:
        raise ValidationError({field: errors})
    return render_text(text, lead=lead, rep=by)


def rep_message_sent_before(*, key: uuid.UUID | None, lead: Lead, by) -> Touch | None:
    """The touch this form's first post made (step 7), if it was this rep's to this lead."""
    if key is None:
        return None
    return Touch.objects.filter(send_key=key, lead=lead, completed_by=by).first()


def rep_message_send(
    *,
    lead: Lead,
    by,
    channel: str,
    body: str,
    subject: str = "",
    task: Touch | None = None,
    key: uuid.UUID | None = None,
) -> Touch:
    """Write to the lead as `by` (recipe in the module docstring). Returns the touch that sends it."""
    if not leads_visible_to(by).filter(pk=lead.pk).exists():
        raise PermissionDenied("This lead is not yours to work.")
    earlier = rep_message_sent_before(key=key, lead=lead, by=by)
    if earlier is not None:
        return earlier
    if task is not None and (task.lead_id != lead.pk or not touch_may_be_worked_by(touch=task, user=by)):
        raise PermissionDenied("This task belongs to someone else.")
    lead = Lead.objects.get(pk=lead.pk)  # the consent flags as they are now
    problem = lead_answer_problem(lead=lead, channel=channel)
    if problem:
        raise ValidationError(f"Cannot send: {problem}.")
    body = _rendered((body or "").strip(), field="body", lead=lead, by=by)
    if not body:
        raise ValidationError({"body": ["Write the message first."]})
    limit = SMS_BODY_MAX if channel == Channel.SMS else EMAIL_BODY_MAX
    if len(body) > limit:
        raise ValidationError({"body": [f"Keep it under {limit} characters (it has {len(body)})."]})
    in_reply_to = ""
    if channel == Channel.EMAIL:
        subject = _rendered((subject or "").strip(), field="subject", lead=lead, by=by)
        if not subject:
            raise ValidationError({"subject": ["An email needs a subject."]})
        if "\n" in subject or "\r" in subject or len(subject) > SUBJECT_MAX:
            raise ValidationError({"subject": [f"One line, at most {SUBJECT_MAX} characters."]})
        in_reply_to = lead_last_email_message_id(lead=lead)
    else:
        subject = ""
    what = "text" if channel == Channel.SMS else "email"
    try:
        with transaction.atomic():
            if task is None:
                task = _open_task_answered(lead=lead, channel=channel, by=by)
            if task is None:
                task = task_create(
                    lead=lead, title=f"{what.capitalize()} written to the lead", channel=channel, assigned_to=by
                )
            # The task is done as when "Sent" is clicked: one attempt, the cadence advances.
            touch_complete(touch=task, outcome=Outcome.SENT, by=by)
            touch = Touch.objects.create(
                lead=lead,
                channel=channel,
                automated=True,
                title=f"{by.get_full_name() or by.get_username()}'s {what}"[:200],
                subject=subject,
                body=body,
                in_reply_to=in_reply_to[:500],
                send_key=key,
                purpose=TouchPurpose.STEP,
                assigned_to=by,
                completed_by=by,
                due_at=timezone.now(),
            )
            # Out at once, not at the next tick; the claim makes a second hand-over a no-op.
            transaction.on_commit(lambda: touches_send_now.delay([touch.pk]))
    except IntegrityError:
        if key is None:
            raise
        earlier = rep_message_sent_before(key=key, lead=lead, by=by)  # the same form, posted twice at once
        if earlier is None:  # a key sent before to someone else: not this form's
            raise ValidationError("This form was sent already. Open the page again to write a new message.") from None
        return earlier
    return touch

"""Decisive outcomes: what "Not interested" and "Wrong number" decide for the lead.

"Not interested" counts a "no" (cadences.services.touch_mark_done) and the rep then decides, in
the row: close as lost (`lead_close_lost`: the five-attempts rule of lead_status_set, a manager
may close earlier with a reason), move to long-term nurture (`lead_nurture`), or keep going
(nothing to write). Closing or nurturing ends the current cadence at once: its waiting touches,
automated ones included, are cancelled.

"Wrong number" (`lead_wrong_number`, from reactions.outcomes.touch_complete) marks the number
unusable, skips every call and text still waiting for the lead, and gives the owner a task to
find a better number; the cadence goes on with its other channels.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from cadences.models import Cadence, CadenceKind, Channel, Enrollment, Touch, TouchPurpose, TouchStatus
from cadences.services import enrollment_exit, task_create
from leads.models import Lead, LeadStatus
from leads.services.lifecycle import lead_phone_mark_wrong
from reactions.cadence import cadence_start
from reactions.lifecycle import lead_status_change

WRONG_NUMBER = "Wrong number"
NURTURE_EXIT_REASON = "nurture"


def lead_close_lost(*, lead: Lead, by: User, reason: str = "") -> Lead:
    """Close the lead as lost. Before MIN_ATTEMPTS_BEFORE_CLOSE attempts only a manager or admin
    may, with a reason (the rule and its messages are leads.services.lifecycle.lead_status_set)."""
    early = lead.attempt_count < settings.MIN_ATTEMPTS_BEFORE_CLOSE
    override = early and (by.is_manager or by.is_admin_role)
    return lead_status_change(lead=lead, status=LeadStatus.LOST, by=by, reason=reason, override=override)


def nurture_cadence() -> Cadence | None:
    """The active long-term nurture cadence (the oldest, should there be several)."""
    return Cadence.objects.filter(active=True, kind=CadenceKind.NURTURE).order_by("id").first()


def lead_nurture(*, lead: Lead, by: User) -> Enrollment:
    """Move the lead to long-term nurture:
    1. the current cadence ends at once (reason "nurture"): its waiting touches are cancelled;
    2. the lead's status becomes "nurturing";
    3. it starts the active nurture cadence from now.
    Nothing changes when there is no nurture cadence or the lead is closed."""
    cadence = nurture_cadence()
    if cadence is None:
        raise ValidationError("There is no active long-term nurture cadence: ask an admin to switch one on.")
    if not lead.is_open:
        raise ValidationError("This lead is closed: reopen it before nurturing it.")
    with transaction.atomic():
        enrollment_exit(lead=lead, reason=NURTURE_EXIT_REASON, by=by)
        lead = lead_status_change(lead=lead, status=LeadStatus.NURTURING, by=by)
        return cadence_start(lead=lead, cadence=cadence, by=by)


def lead_wrong_number(*, lead: Lead, by: User | None) -> Touch:
    """The number reaches someone else: mark it wrong, skip every call and text still waiting for
    the lead (automated or not; a booked meeting's own row stays), and give the owner a task to find
    a better number. Returns that task. The caller releases the cadence's next step afterwards."""
    with transaction.atomic():
        lead_phone_mark_wrong(lead=lead, by=by)
        Touch.objects.filter(
            lead=lead,
            channel__in=[Channel.CALL, Channel.SMS],
            status__in=[TouchStatus.PENDING, TouchStatus.SCHEDULED],
        ).exclude(purpose=TouchPurpose.APPOINTMENT).update(status=TouchStatus.SKIPPED, failure_reason=WRONG_NUMBER)
        return task_create(
            lead=lead,
            title=f"Find a better number for {lead.full_name}",
            channel=Channel.TASK,
            assigned_to=lead.owner or by,
        )

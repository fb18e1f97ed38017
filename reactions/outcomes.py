"""A rep logs the outcome of a task: the one click on Today."""

from django.db import transaction

from cadences.models import Outcome, Touch
from cadences.services import enrollment_advance, enrollment_complete_if_done, enrollment_exit, touch_mark_done
from leads.models import Lead, LeadStatus
from messaging.tasks import touches_send_now
from reactions.decisions import lead_wrong_number
from reactions.lifecycle import lead_status_change


def touch_complete(*, touch: Touch, outcome: str, by, note: str = "") -> Touch:
    """Log the outcome and let it decide what happens next:

    1. the task is done and the attempt counted (cadences.services.touch_mark_done);
    2. an appointment moves the open lead to "appointment set", which ends its cadence;
    3. a reply ends the cadence;
    4. a wrong number is marked unusable: the lead's waiting calls and texts are skipped and the
       owner gets a task to find a better number (reactions.decisions), then as 5;
    5. anything else: the cadence goes on: the next steps are released (shifted when the rep
       was late, cadences.sequence), automated ones already due go to the workers on commit, and
       the cadence completes if this was its last touch.
    """
    with transaction.atomic():
        touch = touch_mark_done(touch=touch, outcome=outcome, by=by, note=note)
        lead = Lead.objects.get(pk=touch.lead_id)
        if outcome == Outcome.APPOINTMENT and lead.is_open:
            lead_status_change(lead=lead, status=LeadStatus.APPOINTMENT, by=by)
        elif outcome == Outcome.REPLIED:
            enrollment_exit(lead=lead, reason="replied", by=by)
        else:
            if outcome == Outcome.WRONG_NUMBER:
                lead_wrong_number(lead=lead, by=by)
            due_now = enrollment_advance(enrollment_id=touch.enrollment_id, done=touch, at=touch.completed_at)
            if due_now:
                transaction.on_commit(lambda: touches_send_now.delay(due_now))
            enrollment_complete_if_done(enrollment_id=touch.enrollment_id)
    return touch

"""A touch whose message cannot be rendered or built fails with a reason and a rep task, never an
exception in the worker (issue 15); the rep's new-lead alert survives a bad name too."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from cadences.models import Touch, TouchStatus
from messaging.models import Message
from messaging.services import rep_alert_new_lead
from messaging.tasks import reconcile_stuck, touches_send_now
from tests.factories import CadenceStepFactory, LeadFactory, TouchFactory

pytestmark = pytest.mark.django_db

# Noon in New York, morning in Los Angeles: inside every US contact window.
NOON_NY = dt.datetime(2026, 6, 3, 16, 0, tzinfo=dt.UTC)
# Passes the step editor's checks (it parses) but raises when rendered.
RAISES_WHEN_RENDERED = '{% include "missing.html" %}'


def automated_touch(lead, channel, *, subject="Hello {{ lead.first_name }}", body="Hi {{ lead.first_name }}", **kw):
    step = CadenceStepFactory(channel=channel, automated=True, subject=subject if channel == "email" else "", body=body)
    return TouchFactory(lead=lead, step=step, channel=channel, automated=True, assigned_to=None, **kw)


def stranded_touch(lead, status, **templates):
    """An email touch a worker left an hour ago (dead) in `status`, its claim and lease long lapsed."""
    long_ago = timezone.now() - dt.timedelta(hours=1)
    touch = automated_touch(
        lead,
        "email",
        **templates,
        status=status,
        claim_token=uuid.uuid4(),
        claimed_at=long_ago,
        send_started_at=long_ago,
        sent_at=long_ago if status == TouchStatus.SENT else None,
    )
    if hasattr(Touch, "lease_expires_at"):  # the per-touch lease (another part of issue 15)
        Touch.objects.filter(pk=touch.pk).update(lease_expires_at=long_ago)
    return touch


def rep_tasks(lead):
    return list(Touch.objects.filter(lead=lead, automated=False, title__gt=""))


@pytest.fixture
def bad_name_lead(rep):
    """A lead whose name has a line break, saved straight to the database (the admin, or before the rule)."""
    return LeadFactory(owner=rep, first_name="Pat\r\nBcc: x@example.com", timezone="America/New_York")


def test_a_subject_that_would_hold_a_line_break_fails_the_touch_with_a_reason_and_a_task(bad_name_lead, rep):
    touch = automated_touch(bad_name_lead, "email")
    assert touches_send_now([touch.pk]) == {"failed": 1}  # the worker's task returns normally
    touch.refresh_from_db()
    assert touch.status == TouchStatus.FAILED
    assert touch.failure_reason.startswith("The message could not be built: the subject would contain a line break")
    [task] = rep_tasks(bad_name_lead)
    assert task.title.startswith("The automated email could not be built")
    assert (task.channel, task.assigned_to, task.status) == ("email", rep, TouchStatus.SCHEDULED)
    assert bad_name_lead.events.filter(kind="touch", text__contains="could not be built").exists()
    bad_name_lead.refresh_from_db()
    assert not bad_name_lead.email_invalid  # the address is fine: nothing to flag
    assert mail.outbox == [] and not Message.objects.exists()


@time_machine.travel(NOON_NY, tick=True)
@pytest.mark.parametrize("channel", ["email", "sms"])
def test_a_template_that_raises_when_rendered_fails_the_touch_instead_of_the_worker(rep, channel):
    lead = LeadFactory(owner=rep, timezone="America/New_York", phone="+12125551234")
    touch = automated_touch(lead, channel, body=f"Hi {RAISES_WHEN_RENDERED}")
    assert touches_send_now([touch.pk]) == {"failed": 1}
    touch.refresh_from_db()
    assert touch.status == TouchStatus.FAILED
    assert "could not be built: TemplateDoesNotExist" in touch.failure_reason
    [task] = rep_tasks(lead)
    assert task.channel == channel and "could not be built" in task.title
    lead.refresh_from_db()
    assert not (lead.sms_unusable or lead.sms_opt_out or lead.email_invalid)
    assert not Message.objects.exists()


def test_one_unbuildable_touch_does_not_stop_the_rest_of_its_batch(bad_name_lead, rep):
    broken = automated_touch(bad_name_lead, "email")
    fine = automated_touch(LeadFactory(owner=rep, first_name="Dana"), "email")
    assert touches_send_now([broken.pk, fine.pk]) == {"failed": 1, "sent": 1}
    assert [m.subject for m in mail.outbox] == ["Hello Dana"]


def test_the_reconciler_fails_a_started_touch_that_no_longer_builds_and_carries_on(rep, settings):
    """Regression: outgoing_message_for raised out of the reconciler, on every run, for every stuck touch behind it."""
    lead = LeadFactory(owner=rep, timezone="America/New_York")
    stuck = stranded_touch(lead, TouchStatus.SENDING, body=RAISES_WHEN_RENDERED)
    reconcile_stuck()
    stuck.refresh_from_db()
    assert stuck.status == TouchStatus.FAILED
    assert stuck.failure_reason.startswith("Not sent again (it may have gone out): The message could not be built")
    assert len(rep_tasks(lead)) == 1
    reconcile_stuck()  # a second run changes nothing more
    assert len(rep_tasks(lead)) == 1
    assert mail.outbox == []


def test_a_sent_touch_that_no_longer_builds_is_still_recorded(rep):
    lead = LeadFactory(owner=rep, timezone="America/New_York")
    sent = stranded_touch(lead, TouchStatus.SENT, subject=RAISES_WHEN_RENDERED)
    reconcile_stuck()
    [message] = Message.objects.filter(touch=sent)
    assert message.body.startswith("(The message could not be built")
    assert lead.events.filter(kind="message_out").count() == 1


def test_the_new_lead_alert_goes_out_for_a_lead_with_a_bad_name(rep):
    """Regression: send_mail raised "Header values can't contain newlines" and the rep was never told."""
    lead = LeadFactory(owner=rep, first_name="Pat\r\nBcc: x@example.com\x1b[31m", last_name="Lee\x07")
    assert rep_alert_new_lead(lead_id=lead.pk)["email"] is True
    [alert] = mail.outbox
    assert alert.subject == "New lead: Pat Bcc: x@example.com Lee"
    assert alert.to == [rep.email] and alert.bcc == []

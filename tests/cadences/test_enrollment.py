"""A new lead is enrolled in its cadence with the right touches on the right channels and days."""

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cadences import shipped_cadences
from cadences.editing import STEP_FIELDS, step_problems
from cadences.models import Cadence, CadenceStep, Enrollment, Outcome, Touch, TouchStatus
from cadences.rendering import render_text
from cadences.services import (
    cadence_pick_for_lead,
    enrollment_exit,
    enrollment_pause,
    enrollment_resume,
    enrollment_start,
)
from leads.models import Lead, LeadStatus
from reactions.intake import lead_intake
from reactions.lifecycle import lead_status_change
from reactions.outcomes import touch_complete
from tests.factories import CadenceFactory, CadenceStepFactory, LeadFactory

REFERENCE_PLAN = {
    0: {"email", "sms", "call"},
    1: {"call", "email"},
    2: {"email", "twitter"},
    3: {"twitter"},
    5: {"email", "linkedin"},
    7: {"email"},
    10: {"call", "email"},
    17: {"email", "twitter"},
    21: {"linkedin"},
    28: {"call", "email"},
}

# Wednesday 3 June 2026, 14:00 UTC = 10:00 in New York.
ARRIVAL = dt.datetime(2026, 6, 3, 14, 0, tzinfo=dt.UTC)


def intake(web_source, **overrides):
    data = {"first_name": "Dana", "last_name": "Lee", "phone": "+1 212 555 1234", "email": "dana@example.org"}
    data.update(overrides)
    return lead_intake(source=web_source, via="api", **data).lead


def test_reference_cadence_ships_the_studied_plan(reference_cadence):
    plan = defaultdict(set)
    for step in reference_cadence.steps.filter(retired_at__isnull=True):
        plan[step.day].add(step.channel)
        assert step.talking_points, f"step {step} has no talking points"
        assert "touching base" not in (step.body + step.talking_points).lower()
        if step.channel == "email":
            assert step.subject and step.body
    assert dict(plan) == REFERENCE_PLAN


@time_machine.travel(ARRIVAL, tick=False)
def test_new_web_lead_is_enrolled_with_touches_in_its_local_time(web_source, rep, reference_cadence):
    lead = intake(web_source)
    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.cadence == reference_cadence and enrollment.state == "active"
    touches = list(lead.touches.select_related("step"))
    assert len(touches) == sum(len(c) for c in REFERENCE_PLAN.values())
    ny = ZoneInfo("America/New_York")
    assert lead.timezone == "America/New_York"
    for touch in touches:
        local = touch.due_at.astimezone(ny)
        assert (local.date() - ARRIVAL.astimezone(ny).date()).days == touch.step.day
        assert touch.automated == (touch.channel in ("email", "sms"))
        assert touch.assigned_to == (None if touch.automated else lead.owner)
    instant = [t for t in touches if t.step.day == 0]
    # The instant response: auto-responder email + SMS, and a call task due right away.
    assert {t.channel for t in instant} == {"email", "sms", "call"}
    call = next(t for t in instant if t.channel == "call")
    assert call.due_at - ARRIVAL <= dt.timedelta(minutes=5)


@time_machine.travel(ARRIVAL, tick=False)
def test_instant_auto_responder_goes_out_on_commit(
    web_source, rep, reference_cadence, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = intake(web_source)
    sent = Touch.objects.filter(lead=lead, status=TouchStatus.SENT)
    assert {t.channel for t in sent} == {"email", "sms"}
    # To the lead: the auto-responder only (the other email is the rep's new-lead alert).
    [email] = [m for m in mailoutbox if m.to == ["dana@example.org"]]
    assert [m.to for m in mailoutbox if m is not email] == [[rep.email]]
    assert "Dana" in email.subject and "Alice" in email.body  # the rep by name: authentic, not generic
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert lead.messages.filter(channel="sms", status="outbox").count() == 1


@time_machine.travel(ARRIVAL, tick=False)
def test_lead_without_email_gets_email_steps_skipped(web_source, rep, reference_cadence):
    lead = intake(web_source, email="")
    email_touches = lead.touches.filter(channel="email")
    assert email_touches.exists()
    assert set(email_touches.values_list("status", flat=True)) == {TouchStatus.SKIPPED}
    # The calls are all still planned: the first is the rep's open task, the others wait their turn.
    calls = list(lead.touches.filter(channel="call").order_by("due_at").values_list("status", flat=True))
    assert calls == [TouchStatus.SCHEDULED] + [TouchStatus.PENDING] * 3


def test_rules_pick_the_most_specific_cadence(web_source, reference_cadence):
    by_source = CadenceFactory(name="Website leads")
    by_source.sources.add(web_source)
    by_both = CadenceFactory(name="Website test drives", interest_keywords="test drive, demo")
    by_both.sources.add(web_source)
    CadenceFactory(name="Inactive", interest_keywords="pricing", active=False)
    assert cadence_pick_for_lead(lead=LeadFactory(source=web_source, interest="A TEST DRIVE please")) == by_both
    assert cadence_pick_for_lead(lead=LeadFactory(source=web_source, interest="pricing")) == by_source
    assert cadence_pick_for_lead(lead=LeadFactory(source=None, interest="pricing")) == reference_cadence


def test_one_running_enrollment_per_lead(reference_cadence):
    lead = LeadFactory()
    enrollment_start(lead=lead, cadence=reference_cadence)
    with pytest.raises(ValidationError):
        enrollment_start(lead=lead, cadence=reference_cadence)


def test_pause_and_resume_keep_the_remaining_gaps(rep):
    cadence = CadenceFactory()
    CadenceStepFactory(cadence=cadence, day=1, channel="email", automated=True, send_hour=10, subject="s", body="b")
    CadenceStepFactory(cadence=cadence, day=3, channel="email", automated=True, send_hour=10, subject="s", body="b")
    lead = LeadFactory(owner=rep, timezone="America/New_York")
    with time_machine.travel(ARRIVAL, tick=False):
        enrollment = enrollment_start(lead=lead, cadence=cadence)
        before = list(enrollment.touches.order_by("due_at").values_list("due_at", flat=True))
        enrollment_pause(enrollment=enrollment)
        assert set(enrollment.touches.values_list("status", flat=True)) == {TouchStatus.PAUSED}
    with time_machine.travel(ARRIVAL + dt.timedelta(days=2), tick=False):
        enrollment_resume(enrollment=enrollment)
        after = list(enrollment.touches.order_by("due_at").values_list("due_at", flat=True))
    assert [a - b for a, b in zip(after, before, strict=True)] == [dt.timedelta(days=2)] * 2
    assert set(enrollment.touches.values_list("status", flat=True)) == {TouchStatus.SCHEDULED}


def test_exit_cancels_remaining_touches(reference_cadence):
    lead = LeadFactory()
    enrollment = enrollment_start(lead=lead, cadence=reference_cadence)
    cancelled = enrollment_exit(lead=lead, reason="replied")
    enrollment.refresh_from_db()
    assert enrollment.state == "exited" and enrollment.exit_reason == "replied"
    assert cancelled == Touch.objects.filter(enrollment=enrollment, status=TouchStatus.CANCELLED).count() > 0
    assert not Touch.objects.filter(enrollment=enrollment, status=TouchStatus.SCHEDULED).exists()


@pytest.mark.parametrize("status", [LeadStatus.WON, LeadStatus.APPOINTMENT])
def test_closing_or_appointment_ends_the_cadence(reference_cadence, rep, status):
    lead = LeadFactory(owner=rep)
    enrollment_start(lead=lead, cadence=reference_cadence)
    lead_status_change(lead=lead, status=status, by=rep)
    assert not Touch.objects.filter(lead=lead, status=TouchStatus.SCHEDULED).exists()


def test_logging_outcomes_counts_attempts_and_enforces_five(reference_cadence, rep, manager):
    lead = LeadFactory(owner=rep)
    enrollment_start(lead=lead, cadence=reference_cadence)
    calls = list(Touch.objects.filter(lead=lead, automated=False).order_by("due_at"))
    touch_complete(touch=calls[0], outcome=Outcome.NOT_INTERESTED, by=rep, note="Busy this quarter")
    lead.refresh_from_db()
    assert lead.attempt_count == 1 and lead.objection_count == 1
    assert lead.first_response_at is not None and lead.status == LeadStatus.WORKING
    with pytest.raises(ValidationError, match="1 of 5 attempts"):
        lead_status_change(lead=lead, status=LeadStatus.LOST, by=rep)
    with pytest.raises(PermissionDenied):
        lead_status_change(lead=lead, status=LeadStatus.LOST, by=rep, override=True, reason="x")
    for touch in calls[1:5]:
        touch_complete(touch=touch, outcome=Outcome.NO_ANSWER, by=rep)
    lead.refresh_from_db()
    assert lead.attempt_count == 5
    lead_status_change(lead=lead, status=LeadStatus.LOST, by=rep, reason="Bought elsewhere")
    assert lead.status == LeadStatus.LOST


def test_an_outcome_is_logged_once_and_only_by_the_owner(reference_cadence, rep, teammate):
    lead = LeadFactory(owner=rep)
    enrollment_start(lead=lead, cadence=reference_cadence)
    call = Touch.objects.filter(lead=lead, automated=False).first()
    with pytest.raises(PermissionDenied):
        touch_complete(touch=call, outcome=Outcome.CONNECTED, by=teammate)
    touch_complete(touch=call, outcome=Outcome.CONNECTED, by=rep)
    with pytest.raises(ValidationError):
        touch_complete(touch=call, outcome=Outcome.CONNECTED, by=rep)
    lead.refresh_from_db()
    assert lead.attempt_count == 1


def test_reply_ends_the_cadence(reference_cadence, rep):
    lead = LeadFactory(owner=rep)
    enrollment_start(lead=lead, cadence=reference_cadence)
    call = Touch.objects.filter(lead=lead, automated=False).first()
    touch_complete(touch=call, outcome=Outcome.REPLIED, by=rep)
    assert Enrollment.objects.get(lead=lead).exit_reason == "replied"


def test_edited_step_does_not_change_running_enrollments(reference_cadence):
    lead = LeadFactory()
    enrollment_start(lead=lead, cadence=reference_cadence)
    touch = Touch.objects.filter(lead=lead, channel="email", step__day=7).get()
    original_body = touch.step.body
    step = touch.step
    step.retired_at = timezone.now()
    step.save()
    CadenceStep.objects.create(
        cadence=reference_cadence, day=7, channel="email", automated=True, subject="New", body="New"
    )
    touch.refresh_from_db()
    assert touch.step.body == original_body


def test_inactive_cadence_enrols_nobody(db):
    cadence = Cadence.objects.create(name="Off", active=False)
    with pytest.raises(ValidationError):
        enrollment_start(lead=LeadFactory(), cadence=cadence)


# --- Shipped cadences and the way a lead came in ------------------------------------------------


def shipped(name):
    return Cadence.objects.get(name=name)


def test_shipped_cadences_exist_after_migrate(db):
    phone = shipped(shipped_cadences.PHONE_INQUIRY)
    assert (phone.kind, phone.intake_via, phone.active, phone.is_default) == ("follow_up", "phone", True, False)
    assert plan_of(phone) == {
        0: ["email"],
        2: ["call"],
        4: ["email"],
        7: ["call", "email"],
        14: ["email"],
        21: ["call"],
        28: ["email"],
    }
    [thanks] = phone.steps.filter(day=0)
    assert thanks.automated and thanks.send_hour is None and "lead.interest" in thanks.body
    nurture = shipped(shipped_cadences.NURTURE)
    assert nurture.kind == "nurture" and not nurture.instant_response
    steps = list(nurture.steps.all())
    assert [s.day for s in steps] == [30, 60, 90, 120, 150, 180]
    assert all(s.channel == "email" and s.automated and s.send_hour == 10 for s in steps)
    no_show = shipped(shipped_cadences.NO_SHOW)
    assert no_show.kind == "no_show"
    assert plan_of(no_show) == {0: ["call", "email"], 1: ["call"], 3: ["email"], 5: ["call"]}
    assert no_show.steps.get(day=0, channel="email").subject == "Sorry we missed you — pick a new time"


def plan_of(cadence):
    plan = defaultdict(list)
    for step in cadence.steps.filter(retired_at__isnull=True).order_by("day", "position"):
        plan[step.day].append(step.channel)
    return dict(plan)


@pytest.mark.parametrize("name", [c.name for c in shipped_cadences.SHIPPED])
def test_shipped_steps_give_value_and_render(name, rep):
    lead = LeadFactory(owner=rep, first_name="Pat", interest="a quote for 10 seats")
    for step in shipped(name).steps.all():
        problems = step_problems(**{f: getattr(step, f) for f in STEP_FIELDS})
        assert not problems.errors and not problems.warnings, (step, problems)
        assert step.talking_points, f"{step} has no talking points"
        for text in (step.subject, step.body, step.talking_points):
            rendered = render_text(text, lead=lead, rep=rep)
            assert "{{" not in rendered and "{%" not in rendered
            assert "touching base" not in rendered.lower()
            # Only an answer to a text promises a call, and only when a rep owns the lead.
            if name != shipped_cadences.SMS_INQUIRY:
                assert "call you shortly" not in rendered.lower()
        if name == shipped_cadences.SMS_INQUIRY:  # it may start with nobody owning the lead
            for text in (step.subject, step.body):
                assert "call you" not in render_text(text, lead=lead, rep=None).lower()
        if step.channel == "email":
            assert "Pat" in render_text(step.body, lead=lead, rep=rep)


def test_loading_the_shipped_cadences_again_changes_nothing(db):
    from django.apps import apps

    before = list(CadenceStep.objects.order_by("id").values_list("id", "cadence__name", "subject"))
    shipped(shipped_cadences.NURTURE).steps.filter(day=30).update(subject="Edited by an admin")
    shipped_cadences.load(apps)
    shipped_cadences.load(apps)
    after = list(CadenceStep.objects.order_by("id").values_list("id", "cadence__name", "subject"))
    assert [row[:2] for row in after] == [row[:2] for row in before]
    assert shipped(shipped_cadences.NURTURE).steps.get(day=30).subject == "Edited by an admin"


PHONE_CALLER = {
    "first_name": "Pat",
    "last_name": "Caller",
    "phone": "(212) 555-0142",
    "email": "pat@example.org",
    "how_heard": "Radio ad",
    "interest": "Wants a quote for 10 seats",
}


def lead_messages(lead, mailoutbox):
    """Everything that went to the lead: emails (test outbox) and texts (the dev SMS outbox)."""
    from messaging.models import Message

    emails = [m for m in mailoutbox if lead.email in m.to]
    texts = list(Message.objects.filter(to=lead.phone))
    return emails, texts


@time_machine.travel(ARRIVAL, tick=False)
def test_a_lead_taken_on_the_phone_gets_the_phone_cadence(
    client_for, rep, web_source, mailoutbox, django_capture_on_commit_callbacks
):
    rep.last_name = "Rep"
    rep.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(rep).post(reverse("leads:intake"), {**PHONE_CALLER, "source": web_source.pk})
    assert response.status_code == 302
    lead = Lead.objects.get(first_name="Pat")
    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.cadence.name == shipped_cadences.PHONE_INQUIRY
    touches = list(lead.touches.select_related("step"))
    # No call-within-5-minutes task: the first call is Day 2.
    assert not [t for t in touches if t.channel == "call" and t.step.day == 0]
    assert min(t.due_at for t in touches if t.channel == "call") - ARRIVAL > dt.timedelta(days=1)
    emails, texts = lead_messages(lead, mailoutbox)
    assert texts == []  # no auto-responder SMS
    [thanks] = emails  # the thank-you went at once, nothing else
    assert thanks.subject == "Thanks for the call, Pat"
    assert "Wants a quote for 10 seats" in thanks.body and "Alice Rep" in thanks.body
    assert "call you" not in thanks.body.lower()


@time_machine.travel(ARRIVAL, tick=False)
def test_a_phone_lead_without_a_phone_cadence_skips_the_web_instant_steps(
    rep, web_source, reference_cadence, mailoutbox, django_capture_on_commit_callbacks
):
    Cadence.objects.filter(name=shipped_cadences.PHONE_INQUIRY).update(active=False)
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_intake(**PHONE_CALLER, source=web_source, owner=rep, via="phone", actor=rep).lead
    assert Enrollment.objects.get(lead=lead).cadence == reference_cadence
    assert not lead.touches.filter(step__day=0).exists()  # no auto-responder, no 5-minute call
    assert lead.touches.filter(step__day=1, channel="call", status=TouchStatus.SCHEDULED).exists()
    assert lead_messages(lead, mailoutbox) == ([], [])


@time_machine.travel(ARRIVAL, tick=False)
def test_an_api_lead_still_gets_the_web_cadence_and_its_instant_touches(
    web_source, rep, reference_cadence, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = intake(web_source)
    assert Enrollment.objects.get(lead=lead).cadence == reference_cadence
    call = lead.touches.get(step__day=0, channel="call")
    assert call.status == TouchStatus.SCHEDULED and call.due_at - ARRIVAL <= dt.timedelta(minutes=5)
    emails, texts = lead_messages(lead, mailoutbox)
    assert len(emails) == 1 and "call you shortly" in emails[0].body
    assert len(texts) == 1 and "call you" in texts[0].body


def test_only_follow_up_cadences_are_picked_for_new_leads(web_source):
    lead = LeadFactory(source=web_source)
    for kind in ("nurture", "no_show"):
        Cadence.objects.filter(kind=kind).update(is_default=False)
        CadenceFactory(name=f"Web {kind}", kind=kind).sources.add(web_source)
    assert cadence_pick_for_lead(lead=lead, via="api").name == "Web lead — 28 days"
    assert cadence_pick_for_lead(lead=lead, via="phone").name == shipped_cadences.PHONE_INQUIRY

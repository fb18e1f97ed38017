"""Decisive outcomes on Today: "Not interested" asks close / nurture / keep going; "Wrong number" stops calls and texts."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from cadences.models import Cadence, CadenceKind, Channel, Enrollment, Touch, TouchStatus
from leads.models import LeadEvent, LeadStatus
from leads.services.lifecycle import lead_update
from reactions.cadence import cadence_start
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _utc(rep, teammate, other_rep, manager):
    for user in (rep, teammate, other_rep, manager):
        user.timezone = "UTC"
        user.save(update_fields=["timezone"])


@pytest.fixture
def follow_up(db):
    """Day 0: a call at once; Day 1: a text; Day 2: an email (both automated); Day 3: a call; Day 4: a LinkedIn task."""
    cadence = factories.CadenceFactory(name="Follow-up")
    factories.CadenceStepFactory(cadence=cadence, day=0, channel=Channel.CALL, send_hour=None)
    factories.CadenceStepFactory(cadence=cadence, day=1, channel=Channel.SMS, automated=True, body="Hi")
    factories.CadenceStepFactory(cadence=cadence, day=2, channel=Channel.EMAIL, automated=True, subject="Hi", body="Hi")
    factories.CadenceStepFactory(cadence=cadence, day=3, channel=Channel.CALL)
    factories.CadenceStepFactory(cadence=cadence, day=4, channel=Channel.LINKEDIN)
    return cadence


@pytest.fixture(autouse=True)
def _no_shipped_nurture(db):
    """The tests say which nurture cadence there is (the shipped one stays out of their way)."""
    Cadence.objects.filter(kind=CadenceKind.NURTURE).update(active=False)


@pytest.fixture
def nurture(db):
    cadence = factories.CadenceFactory(name="Long-term nurture", kind=CadenceKind.NURTURE)
    factories.CadenceStepFactory(
        cadence=cadence, day=30, channel=Channel.EMAIL, automated=True, subject="News", body="Hi"
    )
    factories.CadenceStepFactory(
        cadence=cadence, day=60, channel=Channel.EMAIL, automated=True, subject="News", body="Hi"
    )
    return cadence


@pytest.fixture
def enrolled(rep, follow_up):
    """A lead of alice in the follow-up cadence; returns its open call task (the Today row)."""
    lead = factories.LeadFactory(owner=rep, first_name="Megan", last_name="Foster", created_at=timezone.now())
    cadence_start(lead=lead, cadence=follow_up, at=lead.created_at)
    return Touch.objects.get(lead=lead, status=TouchStatus.SCHEDULED, automated=False)


def _not_interested(client, touch):
    return client.post(f"/today/touches/{touch.pk}/outcome/", {"outcome": "not_interested"}, **HTMX)


def _decide(client, touch, decision, reason="", **extra):
    return client.post(
        f"/today/leads/{touch.lead_id}/decision/",
        {"decision": decision, "reason": reason, "touch": touch.pk},
        **{**HTMX, **extra},
    )


def test_not_interested_counts_a_no_and_asks_in_the_row(client_for, rep, enrolled):
    response = _not_interested(client_for(rep), enrolled)
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="touch-{enrolled.pk}" data-lead="{enrolled.lead_id}" data-touch="{enrolled.pk}"' in body
    for decision in ("close", "nurture", "keep"):
        assert f'data-decision="{decision}"' in body
    assert f'hx-post="/today/leads/{enrolled.lead_id}/decision/"' in body
    assert "Attempts 1/5: closing needs 5 attempts." in body
    lead = enrolled.lead
    lead.refresh_from_db()
    assert (lead.objection_count, lead.attempt_count, lead.status) == (1, 1, LeadStatus.WORKING)


def test_close_is_refused_under_five_attempts_with_the_message_in_the_row(client_for, rep, enrolled):
    client = client_for(rep)
    _not_interested(client, enrolled)
    response = _decide(client, enrolled, "close", reason="Went with a competitor")
    assert response.status_code == 400 and response.headers["X-Today-Row"] == "error"
    body = response.content.decode()
    assert "today-decision" in body and "today-row-message" in body
    assert "Only 1 of 5 attempts logged" in body
    assert 'value="Went with a competitor"' in body  # nothing typed is lost
    lead = enrolled.lead
    lead.refresh_from_db()
    assert lead.status == LeadStatus.WORKING
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.ACTIVE


def test_close_at_five_attempts_stops_the_cadence_at_once(client_for, rep, enrolled):
    lead = enrolled.lead
    lead.attempt_count = 4
    lead.save(update_fields=["attempt_count"])
    client = client_for(rep)
    _not_interested(client, enrolled)
    response = _decide(client, enrolled, "close", reason="Bought elsewhere")
    assert response.status_code == 200
    assert json.loads(response.headers["HX-Trigger-After-Swap"]) == {"today:lead-ended": {"lead": lead.pk}}
    assert "Closed as lost — the cadence has ended" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.LOST and lead.close_reason == "Bought elsewhere"
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.EXITED
    # The automated text and email will never go.
    automated = Touch.objects.filter(lead=lead, automated=True)
    assert automated.count() == 2 and set(automated.values_list("status", flat=True)) == {TouchStatus.CANCELLED}
    assert not Touch.objects.filter(lead=lead).still_open().exists()


def test_a_manager_closes_early_with_a_reason(client_for, rep, manager, enrolled):
    client = client_for(rep)
    _not_interested(client, enrolled)
    mona = client_for(manager)
    response = _decide(mona, enrolled, "close")
    assert response.status_code == 400 and "Say why this lead is closed early." in response.content.decode()
    assert (
        "or your reason as a manager"
        in _not_interested(mona, factories.TouchFactory(lead=enrolled.lead)).content.decode()
    )
    response = _decide(mona, enrolled, "close", reason="Duplicate of a customer")
    assert response.status_code == 200
    lead = enrolled.lead
    lead.refresh_from_db()
    assert lead.status == LeadStatus.LOST
    assert (
        "manager override" in LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.STATUS).order_by("pk").last().text
    )


def test_nurture_ends_the_cadence_and_starts_the_nurture_cadence(client_for, rep, enrolled, nurture, time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC), tick=False)
    client = client_for(rep)
    _not_interested(client, enrolled)
    response = _decide(client, enrolled, "nurture")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Moved to long-term nurture (Long-term nurture) — next: Email on" in body
    assert json.loads(response.headers["HX-Trigger-After-Swap"])["today:lead-ended"]["lead"] == enrolled.lead_id
    lead = enrolled.lead
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NURTURING
    old, new = Enrollment.objects.filter(lead=lead).order_by("id")
    assert (old.state, old.exit_reason, old.cadence.kind) == (Enrollment.State.EXITED, "nurture", CadenceKind.FOLLOW_UP)
    assert (new.state, new.cadence) == (Enrollment.State.ACTIVE, nurture)
    assert not Touch.objects.filter(enrollment=old).still_open().exists()
    assert Touch.objects.filter(enrollment=new).count() == 2


def test_nurture_without_a_nurture_cadence_changes_nothing(client_for, rep, enrolled):
    client = client_for(rep)
    _not_interested(client, enrolled)
    response = _decide(client, enrolled, "nurture")
    assert response.status_code == 400 and "no active long-term nurture cadence" in response.content.decode()
    lead = enrolled.lead
    lead.refresh_from_db()
    assert lead.status == LeadStatus.WORKING
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.ACTIVE


def test_keep_going_shows_the_next_action(client_for, rep, enrolled, make_task):
    client = client_for(rep)
    _not_interested(client, enrolled)
    response = _decide(client, enrolled, "keep")
    assert response.status_code == 200 and "HX-Trigger-After-Swap" not in response.headers
    body = response.content.decode()
    # The cadence's next step (the Day 1 text) is not today: a confirmation names it.
    assert "Keep going — next: SMS" in body and "today-decision" not in body
    # With a task due today, that task is the row.
    other = make_task(rep, step=None, lead=enrolled.lead, title="Send the brochure", due=dt.timedelta(minutes=-1))
    body = _decide(client, enrolled, "keep").content.decode()
    assert f'id="touch-{other.pk}" data-lead="{enrolled.lead_id}"' in body


def test_decisions_are_scoped_like_tasks(client_for, rep, teammate, other_rep, other_manager, manager, enrolled):
    for user in (teammate, other_rep, other_manager):
        assert _decide(client_for(user), enrolled, "keep").status_code == 404
    assert _decide(client_for(manager), enrolled, "keep").status_code == 200
    assert client_for(None).post(f"/today/leads/{enrolled.lead_id}/decision/", {"decision": "keep"}).status_code == 302


def test_a_bad_decision_and_a_plain_post(client_for, rep, enrolled):
    client = client_for(rep)
    response = _decide(client, enrolled, "explode")
    assert response.status_code == 400 and "Choose close, nurture or keep going." in response.content.decode()
    plain = client.post(
        f"/today/leads/{enrolled.lead_id}/decision/", {"decision": "close", "touch": enrolled.pk}, follow=True
    )
    assert b"Only 0 of 5 attempts logged" in plain.content


def test_wrong_number_stops_calls_and_texts_and_asks_for_a_better_number(client_for, rep, enrolled):
    lead = enrolled.lead
    email_task = factories.TouchFactory(
        lead=lead, channel=Channel.EMAIL, title="Email the quote", due_at=timezone.now()
    )
    response = client_for(rep).post(f"/today/touches/{enrolled.pk}/outcome/", {"outcome": "wrong_number"}, **HTMX)
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.phone_invalid
    assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.EDIT, text__startswith="Wrong number:").exists()
    skipped = Touch.objects.filter(lead=lead, channel__in=[Channel.CALL, Channel.SMS]).exclude(pk=enrolled.pk)
    assert skipped.count() == 2  # the Day 1 text and the Day 3 call
    assert set(skipped.values_list("status", "failure_reason")) == {(TouchStatus.SKIPPED, "Wrong number")}
    task = Touch.objects.get(lead=lead, title=f"Find a better number for {lead.full_name}")
    assert (task.channel, task.assigned_to, task.status) == (Channel.TASK, rep, TouchStatus.SCHEDULED)
    # The cadence goes on with its other channels: the Day 2 email and the Day 4 LinkedIn step are released.
    steps = Touch.objects.filter(lead=lead, enrollment__isnull=False, channel__in=[Channel.EMAIL, Channel.LINKEDIN])
    assert set(steps.values_list("status", flat=True)) == {TouchStatus.SCHEDULED}
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.ACTIVE
    email_task.refresh_from_db()
    assert email_task.status == TouchStatus.SCHEDULED
    # The lead's next row, due now: the most urgent of its tasks.
    body = response.content.decode()
    assert f'data-lead="{lead.pk}"' in body and "data-touch" in body


def test_a_new_number_clears_the_wrong_number_mark(rep):
    lead = factories.LeadFactory(owner=rep, phone="+14155550123", phone_invalid=True, sms_unusable=True)
    lead_update(lead=lead, by=rep, company="Same number, other edit")
    lead.refresh_from_db()
    assert lead.phone_invalid
    lead_update(lead=lead, by=rep, phone="(415) 555-0188")
    lead.refresh_from_db()
    assert (lead.phone, lead.phone_invalid, lead.sms_unusable) == ("+14155550188", False, False)
    text = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.EDIT).order_by("pk").last().text
    assert text == "Edited phone; the new number is no longer marked wrong"

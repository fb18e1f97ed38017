import datetime as dt
import json

import pytest
from django.utils import timezone

from cadences.models import Channel, Outcome, Touch, TouchStatus
from leads.models import Contact, Lead, LeadSource
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _utc(rep, teammate, other_rep):
    for user in (rep, teammate, other_rep):
        user.timezone = "UTC"
        user.save(update_fields=["timezone"])


def test_htmx_outcome_replaces_row_with_next_task_due_today(client_for, rep, make_task, time_machine):
    time_machine.move_to(NOON, tick=False)
    first = make_task(rep, step="instant")
    lead = first.lead
    nxt = make_task(rep, step="day5_email", lead=lead, due=dt.timedelta(hours=2))
    response = client_for(rep).post(
        f"/today/touches/{first.pk}/outcome/", {"outcome": "voicemail", "note": "hi"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="touch-{nxt.pk}" data-lead="{lead.pk}" data-touch="{nxt.pk}"' in body
    assert f'id="touch-{first.pk}"' not in body
    assert 'id="today-counters" class="d-flex flex-wrap gap-2" hx-swap-oob="true"' in body
    assert "Done today: 1" in body and "Remaining: 1" in body
    assert "Left voicemail" in body  # the next row shows the last outcome
    assert "HX-Trigger-After-Swap" not in response.headers
    first.refresh_from_db()
    lead.refresh_from_db()
    assert first.status == TouchStatus.DONE and first.outcome == Outcome.VOICEMAIL and first.note == "hi"
    assert lead.attempt_count == 1
    assert lead.first_response_at is not None


def test_htmx_outcome_with_next_step_on_another_day_leaves_with_a_confirmation(
    client_for, rep, make_task, cadence, time_machine
):
    time_machine.move_to(NOON, tick=False)  # Tue 1 Dec 2026
    task = make_task(rep)
    factories.TouchFactory(
        lead=task.lead,
        channel=Channel.EMAIL,
        automated=True,
        assigned_to=None,
        status=TouchStatus.PENDING,
        due_at=dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC),
    )
    response = client_for(rep).post(f"/today/touches/{task.pk}/outcome/", {"outcome": "no_answer"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "today-row" not in body
    assert f'id="touch-{task.pk}" data-notice-for="{task.lead_id}" data-fade' in body
    assert "Logged: No answer — next: Email on Fri 4 Dec 10:00" in body
    assert "Remaining: 0" in body


def test_htmx_outcome_without_any_next_step_says_so(client_for, rep, make_task):
    task = make_task(rep)
    body = client_for(rep).post(f"/today/touches/{task.pk}/outcome/", {"outcome": "connected"}, **HTMX).content
    assert b"today-row" not in body and b"Done today: 1" in body
    assert "Logged: Connected — nothing else is planned".encode() in body


def test_a_reply_ends_the_cadence_and_every_row_of_the_lead_leaves(client_for, rep, make_task, cadence):
    task = make_task(rep, step="day5_email")
    lead = task.lead
    enrollment = factories.EnrollmentFactory(lead=lead, cadence=cadence)
    task.enrollment = enrollment
    task.save(update_fields=["enrollment"])
    later = make_task(rep, lead=lead, due=dt.timedelta(minutes=1))  # an ad-hoc task of the lead
    response = client_for(rep).post(f"/today/touches/{task.pk}/outcome/", {"outcome": "replied"}, **HTMX)
    assert json.loads(response.headers["HX-Trigger-After-Swap"]) == {"today:lead-ended": {"lead": lead.pk}}
    assert "Logged: Replied — the cadence has ended" in response.content.decode()
    later.refresh_from_db()
    assert later.status == TouchStatus.CANCELLED


def test_plain_post_redirects_back(client_for, rep, make_task):
    task = make_task(rep)
    response = client_for(rep).post(f"/today/touches/{task.pk}/outcome/", {"outcome": "no_answer"})
    assert response.status_code == 302 and response.url == "/today/"
    assert Touch.objects.get(pk=task.pk).status == TouchStatus.DONE


def test_invalid_or_wrong_channel_outcome_shows_in_the_row_and_nothing_saved(client_for, rep, make_task):
    task = make_task(rep)  # a call
    client = client_for(rep)
    for outcome in ("bogus", "sent"):
        response = client.post(f"/today/touches/{task.pk}/outcome/", {"outcome": outcome}, **HTMX)
        assert response.status_code == 400 and response.headers["X-Today-Row"] == "error"
        body = response.content.decode()
        # The row again, the message inside it.
        assert f'id="touch-{task.pk}" data-lead="{task.lead_id}"' in body
        assert "today-row-message" in body and "Pick one of the outcomes shown for this task." in body
    task.refresh_from_db()
    task.lead.refresh_from_db()
    assert task.status == TouchStatus.SCHEDULED and task.lead.attempt_count == 0
    # Without htmx: the message flashes on the page the form came from.
    response = client.post(f"/today/touches/{task.pk}/outcome/", {"outcome": "bogus"}, follow=True)
    assert b"Pick one of the outcomes shown for this task." in response.content


def test_already_done_in_another_tab_says_so_inside_the_row(client_for, rep, make_task):
    task = make_task(rep)
    client = client_for(rep)
    assert client.post(f"/today/touches/{task.pk}/outcome/", {"outcome": "connected"}).status_code == 302
    response = client.post(f"/today/touches/{task.pk}/outcome/", {"outcome": "connected"}, **HTMX)
    assert response.status_code == 409 and response.headers["X-Today-Row"] == "error"
    body = response.content.decode()
    assert f'id="touch-{task.pk}"' in body and 'role="alert"' in body and "already done" in body
    assert Lead.objects.get(pk=task.lead_id).attempt_count == 1
    plain = client.post(f"/today/touches/{task.pk}/outcome/", {"outcome": "connected"}, follow=True)
    assert b"already done" in plain.content


def test_another_rep_cannot_see_or_complete(client_for, rep, teammate, other_rep, make_task):
    task = make_task(rep)
    for user in (teammate, other_rep):
        client = client_for(user)
        assert client.post(f"/today/touches/{task.pk}/outcome/", {"outcome": "connected"}).status_code == 404
        assert client.post(f"/today/touches/{task.pk}/snooze/", {"until": "1h"}).status_code == 404
    assert client_for(None).post(f"/today/touches/{task.pk}/outcome/", {"outcome": "connected"}).status_code == 302
    assert Touch.objects.get(pk=task.pk).status == TouchStatus.SCHEDULED


def test_manager_of_the_team_can_log_other_manager_cannot(client_for, rep, manager, other_manager, make_task):
    task = make_task(rep)
    assert (
        client_for(other_manager).post(f"/today/touches/{task.pk}/outcome/", {"outcome": "connected"}).status_code
        == 404
    )
    assert client_for(manager).post(f"/today/touches/{task.pk}/outcome/", {"outcome": "connected"}).status_code == 302
    assert Touch.objects.get(pk=task.pk).completed_by == manager


def test_automated_touch_is_not_a_task(client_for, rep, make_task):
    task = make_task(rep, automated=True)
    assert client_for(rep).post(f"/today/touches/{task.pk}/outcome/", {"outcome": "sent"}).status_code == 404


def test_snooze_one_hour_tomorrow_and_at(client_for, rep, make_task, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC), tick=False)
    task = make_task(rep)
    task.lead.timezone = "UTC"
    task.lead.save()
    client = client_for(rep)
    response = client.post(f"/today/touches/{task.pk}/snooze/", {"until": "1h"}, **HTMX)
    assert response.status_code == 200 and f'id="touch-{task.pk}" data-lead'.encode() in response.content
    task.refresh_from_db()
    assert task.due_at == dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
    response = client.post(f"/today/touches/{task.pk}/snooze/", {"until": "tomorrow"}, **HTMX)
    assert b"today-row" not in response.content  # off today's list
    assert b"Snoozed tomorrow 09:00" in response.content
    task.refresh_from_db()
    assert task.due_at == dt.datetime(2026, 3, 11, 9, 0, tzinfo=dt.UTC)
    assert (
        client.post(f"/today/touches/{task.pk}/snooze/", {"until": "at", "at": "2026-03-12T11:30"}).status_code == 302
    )
    task.refresh_from_db()
    assert task.due_at == dt.datetime(2026, 3, 12, 11, 30, tzinfo=dt.UTC)
    # In the past, or no time given: the message in the row (a flash without htmx) and unchanged.
    response = client.post(f"/today/touches/{task.pk}/snooze/", {"until": "at", "at": "2026-03-01T11:30"}, **HTMX)
    assert response.status_code == 400 and b"Pick a time in the future." in response.content
    response = client.post(f"/today/touches/{task.pk}/snooze/", {"until": "at"}, follow=True)
    assert b"Choose when to snooze to" in response.content
    task.refresh_from_db()
    assert task.due_at == dt.datetime(2026, 3, 12, 11, 30, tzinfo=dt.UTC)


def test_manager_reassigns_rep_forbidden(client_for, rep, teammate, other_rep, manager, make_task):
    task = make_task(rep)
    assert client_for(rep).post(f"/today/touches/{task.pk}/reassign/", {"to": teammate.pk}).status_code == 403
    # Outside the manager's teams: not assignable.
    response = client_for(manager).post(f"/today/touches/{task.pk}/reassign/", {"to": other_rep.pk}, **HTMX)
    assert response.status_code == 400 and b"Choose someone you can assign tasks to." in response.content
    assert Touch.objects.get(pk=task.pk).assigned_to == rep
    response = client_for(manager).post(f"/today/touches/{task.pk}/reassign/", {"to": teammate.pk}, **HTMX)
    assert response.status_code == 200 and b"today-row" not in response.content
    assert b"Task reassigned to" in response.content
    assert Touch.objects.get(pk=task.pk).assigned_to == teammate


def test_other_manager_cannot_reassign(client_for, rep, teammate, other_manager, make_task):
    task = make_task(rep)
    assert client_for(other_manager).post(f"/today/touches/{task.pk}/reassign/", {"to": teammate.pk}).status_code == 404


def test_referral_block_picks_uncalled_customers(client_for, rep, other_rep, settings):
    settings.REFERRAL_CALLS_PER_DAY = 2
    now = timezone.now()
    old = factories.ContactFactory(owner=rep, last_referral_call_at=now - dt.timedelta(days=60))
    never = factories.ContactFactory(owner=rep)
    factories.ContactFactory(owner=rep, last_referral_call_at=now - dt.timedelta(days=5))  # too recent
    factories.ContactFactory(owner=rep, last_referral_call_at=now - dt.timedelta(days=90))  # beyond the 2
    factories.ContactFactory(owner=other_rep)
    response = client_for(rep).get("/today/")
    assert [c.pk for c in response.context["referrals"]] == [never.pk, response.context["referrals"][1].pk]
    assert response.context["referrals"][1].last_referral_call_at < old.last_referral_call_at
    assert b"Call 2 current customers today" in response.content
    assert b"who do you know that we should know?" in response.content.lower()


def test_referral_logging_creates_lead_and_marks_contact(client_for, rep, other_rep):
    contact = factories.ContactFactory(owner=rep)
    client = client_for(rep)
    response = client.post(
        f"/today/referrals/{contact.pk}/",
        {"result": "referral", "first_name": "Rita", "last_name": "Ref", "phone": "(415) 555-0199"},
    )
    assert response.status_code == 302
    lead = Lead.objects.get(first_name="Rita")
    assert lead.referred_by == contact and lead.source.name == "Referral" and lead.owner == rep
    assert lead.phone == "+14155550199"
    contact.refresh_from_db()
    assert contact.last_referral_call_at is not None
    assert LeadSource.objects.filter(name="Referral").count() == 1


def test_referral_no_referral_and_bad_input(client_for, rep, other_rep):
    contact = factories.ContactFactory(owner=rep)
    client = client_for(rep)
    client.post(f"/today/referrals/{contact.pk}/", {"result": "referral", "first_name": "NoContact"})
    contact.refresh_from_db()
    assert contact.last_referral_call_at is None and not Lead.objects.exists()
    client.post(f"/today/referrals/{contact.pk}/", {"result": "referral", "first_name": "X", "phone": "12"})
    contact.refresh_from_db()
    assert contact.last_referral_call_at is None and not Lead.objects.exists()
    client.post(f"/today/referrals/{contact.pk}/", {"result": "none"})
    contact.refresh_from_db()
    assert contact.last_referral_call_at is not None and not Lead.objects.exists()
    # Someone else's customer: 404.
    theirs = factories.ContactFactory(owner=other_rep)
    assert client.post(f"/today/referrals/{theirs.pk}/", {"result": "none"}).status_code == 404
    assert Contact.objects.get(pk=theirs.pk).last_referral_call_at is None


def test_quick_add_form_posts_to_intake(client_for, rep):
    client = client_for(rep)
    body = client.get("/today/").content.decode()
    # The form comes when the card is opened (htmx), not with every Today page.
    assert 'hx-get="/leads/new/"' in body and 'name="how_heard"' not in body
    fragment = client.get("/leads/new/", headers={"HX-Request": "true"}).content.decode()
    assert 'action="/leads/new/"' in fragment and 'name="how_heard"' in fragment and "<html" not in fragment


def test_a_snoozed_new_lead_call_becomes_an_ordinary_task_at_the_chosen_time(client_for, rep, make_task, time_machine):
    """A new lead's call is 'due now — waiting' at the top until the rep snoozes it: then it is the
    rep's choice, due at the new time like any task, and late only past that time's grace."""
    time_machine.move_to(dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC), tick=False)
    rep.timezone = "UTC"
    rep.save(update_fields=["timezone"])
    lead = factories.LeadFactory(owner=rep, timezone="UTC", created_at=timezone.now() - dt.timedelta(minutes=3))
    call = make_task(rep, step="instant", lead=lead, due=-dt.timedelta(minutes=3))
    overdue = make_task(rep, due=-dt.timedelta(hours=1))
    client = client_for(rep)
    body = client.get("/today/").content.decode()
    assert body.index(f'id="touch-{call.pk}"') < body.index(f'id="touch-{overdue.pk}"')
    assert "due now — waiting 3 min" in body

    response = client.post(f"/today/touches/{call.pk}/snooze/", {"until": "1h"}, **HTMX)
    assert response.status_code == 200
    row = response.content.decode()
    assert "Due 16:00" in row and "waiting" not in row and "New lead" not in row
    body = client.get("/today/").content.decode()
    assert body.index(f'id="touch-{overdue.pk}"') < body.index(f'id="touch-{call.pk}"')
    assert client.get("/today/").context["counters"]["overdue"] == 1
    time_machine.move_to(dt.datetime(2026, 3, 10, 16, 20, tzinfo=dt.UTC), tick=False)
    assert "Overdue since 16:00" in client.get("/today/").content.decode()

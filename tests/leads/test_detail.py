import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cadences.models import TouchStatus
from leads.models import LeadEvent
from tests.factories import LeadEventFactory, LeadFactory, TouchFactory


def detail(lead):
    return reverse("leads:detail", args=[lead.pk])


@pytest.mark.parametrize(
    "who, expected",
    [
        ("rep", 200),
        ("teammate", 404),
        ("other_rep", 404),
        ("manager", 200),
        ("other_manager", 404),
        ("admin_user", 200),
    ],
)
def test_who_may_open_a_lead(request, client_for, alice_lead, who, expected):
    user = request.getfixturevalue(who)
    assert client_for(user).get(detail(alice_lead)).status_code == expected


def test_anonymous_is_sent_to_login(client_for, alice_lead):
    response = client_for(None).get(detail(alice_lead))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_missing_lead_is_404(client_for, admin_user, db):
    assert client_for(admin_user).get(reverse("leads:detail", args=[999999])).status_code == 404


def test_details_are_shown(client_for, rep, alice_lead, web_source, settings):
    settings.MIN_ATTEMPTS_BEFORE_CLOSE = 5
    alice_lead.source = web_source
    alice_lead.twitter_handle = "janedoe"
    alice_lead.linkedin_url = "https://www.linkedin.com/in/janedoe"
    alice_lead.attempt_count = 3
    alice_lead.objection_count = 2
    alice_lead.sms_opt_out = True
    alice_lead.how_heard = "A friend"
    alice_lead.interest = "Pricing for 5 seats"
    alice_lead.save()
    response = client_for(rep).get(detail(alice_lead))
    html = response.content.decode()
    assert 'href="tel:+14155550100"' in html and "(415) 555-0100" in html and "+1 415-555-0100" not in html
    assert 'href="mailto:jane@example.org"' in html
    assert 'href="https://x.com/janedoe"' in html
    assert 'href="https://www.linkedin.com/in/janedoe"' in html
    assert "3 of 5" in html and "No SMS" in html and "Website" in html
    assert "A friend" in html and "Pricing for 5 seats" in html
    assert "America/Los_Angeles" in html and "Their time now" in html
    assert "Not yet" in html  # no first response
    assert 'name="override"' not in html  # reps cannot override


def test_local_time_is_the_leads(client_for, rep, alice_lead):
    import time_machine

    with time_machine.travel(datetime.datetime(2026, 3, 10, 20, 30, tzinfo=datetime.UTC), tick=False):
        response = client_for(rep).get(detail(alice_lead))
    assert response.context["local_time"] == "Tue 13:30"  # Los Angeles, PDT


def test_timeline_newest_first_and_capped(client_for, rep, alice_lead):
    now = timezone.now()
    for i in range(105):
        LeadEventFactory(lead=alice_lead, text=f"event {i}", created_at=now - datetime.timedelta(minutes=i))
    response = client_for(rep).get(detail(alice_lead))
    events = response.context["events"]
    assert len(events) == 100 and events[0].text == "event 0" and events[1].text == "event 1"
    assert "Show all" in response.content.decode()
    everything = client_for(rep).get(detail(alice_lead) + "?all=1")
    assert len(everything.context["events"]) == 105
    assert "Show all" not in everything.content.decode()


def test_upcoming_touches_only_scheduled_soonest_first(client_for, rep, alice_lead, charlie_lead):
    now = timezone.now()
    later = TouchFactory(lead=alice_lead, due_at=now + datetime.timedelta(days=2), title="Later call")
    sooner = TouchFactory(lead=alice_lead, due_at=now + datetime.timedelta(hours=1), title="Sooner call")
    TouchFactory(lead=alice_lead, status=TouchStatus.DONE, title="Done already")
    TouchFactory(lead=charlie_lead, title="Not this lead")
    response = client_for(rep).get(detail(alice_lead))
    assert response.context["touches"] == [sooner, later]
    html = response.content.decode()
    assert "Sooner call" in html and "Done already" not in html


def test_constant_queries_whatever_the_timeline(
    client_for, manager, rep, alice_lead, count_queries, django_assert_num_queries
):
    client = client_for(manager)
    for i in range(5):
        LeadEventFactory(lead=alice_lead, actor=rep if i % 2 else manager)
    TouchFactory(lead=alice_lead)
    expected = count_queries(lambda: client.get(detail(alice_lead)))
    for i in range(45):
        LeadEventFactory(lead=alice_lead, actor=rep if i % 2 else manager)
    for _ in range(5):
        TouchFactory(lead=alice_lead)
    with django_assert_num_queries(expected):
        response = client.get(detail(alice_lead))
    assert len(response.context["events"]) == 50


# --- upcoming: rendered, never raw; overdue and waiting marked ----------------------------


def upcoming_card(html):
    return html[html.index("Upcoming touches") : html.index(">Timeline<")]


def test_upcoming_steps_are_rendered_for_the_lead_and_marked(client_for, rep, alice_lead):
    from cadences.models import Cadence
    from cadences.services import enrollment_start

    alice_lead.interest = "Pricing for 5 seats"
    alice_lead.save()
    arrival = datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC)
    with time_machine.travel(arrival, tick=False):
        enrollment_start(lead=alice_lead, cadence=Cadence.objects.get(is_default=True), at=arrival)
    with time_machine.travel(arrival + datetime.timedelta(hours=3), tick=False):
        response = client_for(rep).get(detail(alice_lead))
    html = upcoming_card(response.content.decode())
    assert "{{" not in html and "{%" not in html and "lead.first_name" not in html
    assert "Jane, thanks for reaching out to" in html  # the Day 0 email's subject, for this lead
    assert "Hi Jane, this is Alice at" in html  # the SMS body, signed by her rep
    assert "Call within 5 minutes: the first company" in html  # the call's talking points
    timings = {t.step.day * 10 + t.step.position: t.timing for t in response.context["touches"]}
    assert timings[2] == "overdue"  # the Day 0 call, 3 hours ago
    assert timings[0] == timings[1] == "expired"  # the auto-responder is useless 3 hours late
    assert timings[10] == timings[11] == "waiting"  # Day 1 waits for the call
    assert 'badge text-bg-danger">overdue' in html and "after the previous step" in html


def test_a_task_due_a_moment_ago_is_not_overdue_yet(client_for, rep, alice_lead, settings):
    settings.TASK_OVERDUE_GRACE_MINUTES = 15
    TouchFactory(lead=alice_lead, due_at=timezone.now() - datetime.timedelta(minutes=5), title="Call back")
    TouchFactory(lead=alice_lead, due_at=timezone.now() - datetime.timedelta(minutes=30), title="Old call")
    response = client_for(rep).get(detail(alice_lead))
    assert [t.timing for t in response.context["touches"]] == ["overdue", ""]


def test_upcoming_queries_are_constant(client_for, rep, alice_lead, count_queries, django_assert_num_queries):
    """Rendering each step for the lead costs no query: 1 or 10 upcoming steps, the same count."""
    from cadences.services import enrollment_start
    from tests.factories import CadenceFactory, CadenceStepFactory

    def enrolled(lead, n_steps):
        cadence = CadenceFactory()
        for day in range(1, n_steps):
            subject, body = "For {{ lead.first_name }}", "Hi {{ lead.first_name }}, {{ rep.first_name }} here."
            CadenceStepFactory(cadence=cadence, day=day, channel="email", automated=True, subject=subject, body=body)
        CadenceStepFactory(cadence=cadence, day=n_steps, talking_points="Call {{ lead.first_name }} back.")
        enrollment_start(lead=lead, cadence=cadence)
        return lead

    one = enrolled(alice_lead, 1)
    ten = enrolled(LeadFactory(first_name="Tom", owner=rep, phone="+14155550111"), 10)
    client = client_for(rep)
    client.get(detail(one))  # warm up
    expected = count_queries(lambda: client.get(detail(one)))
    with django_assert_num_queries(expected):
        response = client.get(detail(ten))
    assert len(response.context["touches"]) == 10
    html = upcoming_card(response.content.decode())
    assert "For Tom" in html and "Call Tom back." in html and "{{" not in html


# --- notes ------------------------------------------------------------------------------


def note_url(lead):
    return reverse("leads:note_add", args=[lead.pk])


def test_note_by_htmx_returns_the_timeline(client_for, rep, alice_lead):
    response = client_for(rep).post(note_url(alice_lead), {"text": "Left a voicemail"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "leads/_timeline.html"
    html = response.content.decode()
    assert "Left a voicemail" in html and "<html" not in html
    note = alice_lead.events.get(kind=LeadEvent.Kind.NOTE)
    assert note.actor == rep and note.text == "Left a voicemail"
    # The form comes back empty for the next note.
    assert response.context["note_form"].is_bound is False


def test_note_without_htmx_redirects(client_for, rep, alice_lead):
    response = client_for(rep).post(note_url(alice_lead), {"text": "Plain post"})
    assert response.status_code == 302 and response["Location"] == detail(alice_lead)
    assert alice_lead.events.filter(kind=LeadEvent.Kind.NOTE, text="Plain post").exists()


@pytest.mark.parametrize("htmx", [True, False])
def test_empty_note_is_an_error_and_saves_nothing(client_for, rep, alice_lead, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client_for(rep).post(note_url(alice_lead), {"text": "   "}, **headers)
    assert response.status_code == 200
    assert response.context["note_form"].errors["text"]
    assert not alice_lead.events.filter(kind=LeadEvent.Kind.NOTE).exists()


@pytest.mark.parametrize("who, expected", [("teammate", 404), ("other_rep", 404), ("other_manager", 404)])
def test_others_cannot_add_notes(request, client_for, alice_lead, who, expected):
    user = request.getfixturevalue(who)
    assert client_for(user).post(note_url(alice_lead), {"text": "sneaky"}).status_code == expected
    assert not alice_lead.events.filter(kind=LeadEvent.Kind.NOTE).exists()


def test_note_needs_login_and_post(client_for, rep, alice_lead):
    assert client_for(None).post(note_url(alice_lead), {"text": "x"}).status_code == 302
    assert client_for(rep).get(note_url(alice_lead)).status_code == 405
    assert not alice_lead.events.exists()


def test_manager_notes_on_team_lead(client_for, manager, alice_lead):
    assert client_for(manager).post(note_url(alice_lead), {"text": "Coach: call at 9"}).status_code == 302
    assert alice_lead.events.filter(actor=manager).exists()


def test_closed_lead_page_shows_close_reason(client_for, admin_user):
    lead = LeadFactory(status="lost", closed_at=timezone.now(), close_reason="Chose a competitor")
    html = client_for(admin_user).get(detail(lead)).content.decode()
    assert "Chose a competitor" in html and "Lost" in html

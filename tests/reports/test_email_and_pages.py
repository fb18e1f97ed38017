import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask

from cadences.models import Channel, Outcome
from leads.models import LeadStatus
from reports.models import ReportDelivery
from reports.tasks import send_feedback_friday
from tests.reports.conftest import at, attempt, automated, make_lead, scheduled

FRIDAY = at("2026-06-05 16:00")
PAGES = [
    "/reports/",
    "/reports/friday/",
    "/reports/friday.csv",
    "/reports/compliance/",
    "/reports/speed/",
    "/reports/coverage/",
    "/reports/converts/",
]


@pytest.fixture
def people(rep, teammate, other_rep, manager, other_manager, admin_user):
    make_lead(rep, "2026-06-01 09:00", first_name="Alicelead", status=LeadStatus.NEW)
    make_lead(teammate, "2026-06-02 09:00", first_name="Boblead", status=LeadStatus.NEW)
    make_lead(other_rep, "2026-06-02 09:00", first_name="Charlielead", status=LeadStatus.NEW)


def test_beat_schedule_is_friday_16_org_time(db):
    task = PeriodicTask.objects.get(name="Feedback Friday email")
    assert task.task == "reports.tasks.send_feedback_friday" and task.enabled
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("0", "16", "5")
    assert str(crontab.timezone) == "America/New_York"


def test_friday_email_sent_once_per_person_per_week(mailoutbox, people, manager, other_manager):
    with time_machine.travel(FRIDAY, tick=False):
        assert send_feedback_friday.delay().get() == 5  # two managers, three reps with leads
        assert send_feedback_friday.delay().get() == 0  # beat ran twice: nothing more
    assert len(mailoutbox) == 5
    assert ReportDelivery.objects.filter(week_start=dt.date(2026, 6, 1), sent_at__isnull=False).count() == 5
    kinds = ReportDelivery.objects.values_list("recipient__username", "kind")
    assert sorted(kinds) == [("alice", "own"), ("bob", "own"), ("charlie", "own"), ("mona", "team"), ("sam", "team")]
    by_recipient = {message.to[0]: message for message in mailoutbox}
    mona = by_recipient[manager.email]
    html = mona.alternatives[0][0]
    assert mona.alternatives[0][1] == "text/html"
    assert "Alice" in html and "Bob" in html
    assert "Alicelead" in html  # left behind: listed
    assert "Charlie" not in html and "Charlielead" not in html
    sam_html = by_recipient[other_manager.email].alternatives[0][0]
    assert "Charlielead" in sam_html and "Alicelead" not in sam_html and "Boblead" not in sam_html


def test_friday_email_next_week_is_sent_again(mailoutbox, people, manager, other_manager):
    with time_machine.travel(FRIDAY, tick=False):
        send_feedback_friday.delay()
    with time_machine.travel(FRIDAY + dt.timedelta(days=7), tick=False):
        send_feedback_friday.delay()
    assert len(mailoutbox) == 10


def test_failed_send_is_retried_next_run(mailoutbox, people, manager, other_manager, monkeypatch):
    from django.core.mail import EmailMultiAlternatives

    original = EmailMultiAlternatives.send
    monkeypatch.setattr(EmailMultiAlternatives, "send", lambda self, *a, **k: (_ for _ in ()).throw(OSError("down")))
    with time_machine.travel(FRIDAY, tick=False):
        assert send_feedback_friday.delay().get() == 0
        assert ReportDelivery.objects.count() == 0
        monkeypatch.setattr(EmailMultiAlternatives, "send", original)
        assert send_feedback_friday.delay().get() == 5


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders_for_every_role_with_no_leads(
    client_for, rep, teammate, manager, other_manager, admin_user, url
):
    for user in (rep, teammate, manager, other_manager, admin_user):
        assert client_for(user).get(url).status_code == 200, (user, url)


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_goes_to_login(client_for, url):
    response = client_for(None).get(url)
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.parametrize("url", PAGES[1:])
def test_manager_cannot_pick_other_team_or_its_rep(client_for, manager, other_rep, south, url):
    assert client_for(manager).get(url, {"rep": other_rep.pk}).status_code == 404
    assert client_for(manager).get(url, {"team": south.pk}).status_code == 404


@pytest.mark.parametrize("url", ["/reports/coverage/", "/reports/converts/", "/reports/speed/"])
def test_rep_figures_are_their_own(client_for, rep, teammate, other_rep, people, url):
    with time_machine.travel(FRIDAY, tick=False):
        html = client_for(rep).get(url, {"rep": teammate.pk}).content.decode()
    assert "Boblead" not in html and "Charlielead" not in html


def _fill(rep, teammate, n):
    for i in range(n):
        lead = make_lead(
            rep if i % 2 else teammate,
            f"2026-06-0{1 + i % 4} 09:{i:02d}",
            attempt_count=0 if i == 1 else i % 6,  # leads 0 and 1 have none: every list has rows from the start
            objection_count=i % 3,
            first_response_at=at(f"2026-06-0{1 + i % 4} 10:00"),
            status=LeadStatus.LOST if i % 5 == 0 else LeadStatus.WORKING,
            closed="2026-06-04 12:00" if i % 5 == 0 else None,
        )
        attempt(lead, f"2026-06-0{1 + i % 4} 10:00", outcome=Outcome.APPOINTMENT if i % 4 == 0 else Outcome.NO_ANSWER)
        automated(lead, f"2026-06-0{1 + i % 4} 09:30", channel=Channel.SMS)
        scheduled(lead, "2026-06-04 09:00")


@pytest.mark.parametrize(
    "url",
    [
        "/reports/friday/?week=2026-06-01",
        "/reports/compliance/?rep={teammate}",
        "/reports/speed/?date_from=2026-05-01",
        "/reports/coverage/",
        "/reports/converts/",
        "/reports/friday.csv?week=2026-06-01",
    ],
)
def test_query_count_is_constant(client_for, manager, rep, teammate, django_assert_num_queries, url):
    url = url.format(teammate=teammate.pk)
    client = client_for(manager)
    _fill(rep, teammate, 2)
    with time_machine.travel(FRIDAY, tick=False):
        client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as small:
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
        _fill(rep, teammate, 25)
        with django_assert_num_queries(len(small.captured_queries)):
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
    assert response.status_code == 200

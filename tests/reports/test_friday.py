import csv
import datetime as dt
import io

import pytest
import time_machine

from cadences.models import Channel, Outcome
from leads.models import LeadStatus
from reports.selectors.friday import friday_all_rows, friday_report
from tests.reports.conftest import at, attempt, automated, make_lead, scheduled

WEEK = dt.date(2026, 6, 1)  # Monday; EDT
NOW = at("2026-06-05 16:00")  # Friday afternoon


@pytest.fixture
def week_data(rep, teammate, other_rep, web_source):
    """Alice's week, hand-computed in the tests below; Bob's and Charlie's leads for scoping."""
    data = {}
    # L1: auto email after 30 s, first call after 10 min, a voicemail on Wednesday.
    data["l1"] = l1 = make_lead(
        rep, "2026-06-01 09:00", first_name="Lena", attempt_count=2, first_response_at=at("2026-06-01 09:10")
    )
    automated(l1, "2026-06-01 09:00:30")
    attempt(l1, "2026-06-01 09:10")
    attempt(l1, "2026-06-03 10:00", outcome=Outcome.VOICEMAIL)
    # L2: only the auto-responder reached it.
    data["l2"] = l2 = make_lead(rep, "2026-06-02 10:00", first_name="Otto", status=LeadStatus.NEW)
    automated(l2, "2026-06-02 10:00:20", channel=Channel.SMS)
    # L3: arrived last week, nothing this week, a call task overdue since Thursday.
    data["l3"] = l3 = make_lead(rep, "2026-05-26 11:00", first_name="Lefty", attempt_count=1)
    attempt(l3, "2026-05-26 12:00")
    scheduled(l3, "2026-06-04 09:00")
    # L4: first call after 1 h, closed lost after that single attempt.
    data["l4"] = l4 = make_lead(
        rep,
        "2026-06-03 08:00",
        first_name="Quinn",
        status=LeadStatus.LOST,
        closed="2026-06-04 09:00",
        attempt_count=1,
        first_response_at=at("2026-06-03 09:00"),
    )
    attempt(l4, "2026-06-03 09:00")
    # L5: appointment after 30 min, won on Friday.
    data["l5"] = l5 = make_lead(
        rep,
        "2026-06-04 12:00",
        first_name="Winnie",
        status=LeadStatus.WON,
        closed="2026-06-05 10:00",
        attempt_count=1,
        first_response_at=at("2026-06-04 12:30"),
    )
    attempt(l5, "2026-06-04 12:30", outcome=Outcome.APPOINTMENT)
    # L6: closed before the week: not owned this week.
    data["l6"] = make_lead(rep, "2026-05-20 09:00", first_name="Gone", status=LeadStatus.WON, closed="2026-05-28 09:00")
    data["bob"] = make_lead(teammate, "2026-06-01 11:00", first_name="Bobsclient", status=LeadStatus.NEW)
    data["charlie"] = make_lead(other_rep, "2026-06-01 11:00", first_name="Southerner", status=LeadStatus.NEW)
    return data


def _report(user, **kwargs):
    return friday_report(user=user, week_start=WEEK, now=NOW, **kwargs)


def test_rep_totals_match_hand_computed_figures(rep, manager, week_data):
    report = _report(manager)
    alice = next(p for p in report.reps if p.pk == rep.pk)
    assert alice.owned == 5
    assert alice.received == 4  # L1, L2, L4, L5
    # To follow up: the four received, and the left-behind ones (L2, already received); L3 has a task.
    assert (alice.to_follow_up, alice.followed_up) == (4, 3)  # not L2: the auto-responder is not a follow-up
    assert alice.received_followed_up == 3
    assert alice.followed_up_pct == 75
    assert alice.median_response == dt.timedelta(minutes=30)  # 10 min, 60 min, 30 min
    assert alice.median_response_n == 3
    assert alice.left_behind == 1  # L2: new, only automated messages, nothing scheduled
    assert alice.wins == 1
    assert alice.appointments == 1
    assert (alice.given_up, alice.closed_early, alice.compliant, alice.compliance_pct) == (1, 1, 0, 0)
    assert (alice.attempts, alice.automated) == (4, 2)
    assert dict(alice.touches_by_channel) == {"Call": 4, "Email": 1, "SMS": 1}
    assert alice.touches_total == 6


def test_lead_rows_attempts_channels_flags(rep, week_data):
    with time_machine.travel(NOW, tick=False):
        report = _report(rep)
        rows = {lead.pk: lead for lead in friday_all_rows(report, now=NOW)}
    assert set(rows) == {week_data[k].pk for k in ("l1", "l2", "l3", "l4", "l5")}
    l1 = rows[week_data["l1"].pk]
    assert (l1.attempts_week, l1.automated_week, l1.attempt_count) == (2, 1, 2)
    assert l1.channels_week == ["Call", "Email"]
    assert l1.last_outcome == Outcome.VOICEMAIL and l1.last_outcome_at == at("2026-06-03 10:00")
    assert not l1.left_behind and l1.followed_up and l1.to_follow_up
    l2 = rows[week_data["l2"].pk]
    # Touched only by the auto-responder: an automated touch, not an attempt, so left behind.
    assert (l2.attempts_week, l2.automated_week, l2.attempt_count) == (0, 1, 0)
    assert l2.left_behind and l2.to_follow_up and not l2.followed_up
    assert l2.channels_week == ["SMS"]
    l3 = rows[week_data["l3"].pk]
    # No attempt this week, but a call task is scheduled (overdue): not left behind, flagged overdue.
    assert not l3.left_behind and l3.overdue_tasks == 1 and not l3.to_follow_up
    assert l3.next_touch_at == at("2026-06-04 09:00") and l3.next_touch_channel == Channel.CALL
    assert rows[week_data["l4"].pk].closed_early
    assert not rows[week_data["l5"].pk].closed_early


def test_empty_week_renders_without_division_by_zero(client_for, manager):
    response = client_for(manager).get("/reports/friday/", {"week": "2026-06-03"})
    assert response.status_code == 200
    assert response.context["report"].totals["followed_up_pct"] is None
    assert response.context["report"].totals["median_response"] is None


def test_page_defaults_to_current_week(client_for, rep):
    with time_machine.travel(NOW, tick=False):
        response = client_for(rep).get("/reports/friday/")
    assert response.context["report"].week_start == WEEK


def _lead_ids(response):
    return {lead.pk for lead in response.context["page"].object_list}


def test_rep_sees_only_own_leads_even_when_asking_for_others(client_for, rep, teammate, other_rep, north, week_data):
    client = client_for(rep)
    for params in ({}, {"rep": teammate.pk}, {"rep": other_rep.pk}, {"team": north.pk}):
        response = client.get("/reports/friday/", {"week": "2026-06-01", **params})
        assert response.status_code == 200
        ids = _lead_ids(response)
        assert week_data["bob"].pk not in ids and week_data["charlie"].pk not in ids
        assert week_data["l1"].pk in ids
        assert [p.pk for p in response.context["report"].reps] == [rep.pk]
    assert b"Bobsclient" not in response.content


def test_manager_sees_team_and_filters_by_rep(client_for, manager, rep, teammate, week_data):
    client = client_for(manager)
    response = client.get("/reports/friday/", {"week": "2026-06-01"})
    ids = _lead_ids(response)
    assert week_data["bob"].pk in ids and week_data["l1"].pk in ids
    assert week_data["charlie"].pk not in ids
    assert {rep.pk, teammate.pk} <= {p.pk for p in response.context["report"].reps}
    response = client.get("/reports/friday/", {"week": "2026-06-01", "rep": teammate.pk})
    assert _lead_ids(response) == {week_data["bob"].pk}


def test_manager_asking_for_other_team_or_its_rep_gets_404(client_for, manager, other_rep, south, week_data):
    client = client_for(manager)
    assert client.get("/reports/friday/", {"rep": other_rep.pk}).status_code == 404
    assert client.get("/reports/friday/", {"team": south.pk}).status_code == 404
    assert client.get("/reports/friday.csv", {"rep": other_rep.pk}).status_code == 404


def test_other_manager_and_admin(client_for, other_manager, admin_user, week_data):
    ids = _lead_ids(client_for(other_manager).get("/reports/friday/", {"week": "2026-06-01"}))
    assert ids == {week_data["charlie"].pk}
    ids = _lead_ids(client_for(admin_user).get("/reports/friday/", {"week": "2026-06-01"}))
    assert {week_data["bob"].pk, week_data["charlie"].pk, week_data["l1"].pk} <= ids


def test_anonymous_is_sent_to_login(client_for):
    for url in ("/reports/", "/reports/friday/", "/reports/friday.csv"):
        response = client_for(None).get(url)
        assert response.status_code == 302 and "/login" in response["Location"]


def _csv(response):
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_same_scope_and_no_other_team_leads(client_for, manager, rep, other_manager, week_data):
    rows = _csv(client_for(manager).get("/reports/friday.csv", {"week": "2026-06-01"}))
    names = {row["Lead"].split()[0] for row in rows}
    assert {"Lena", "Otto", "Lefty", "Quinn", "Winnie", "Bobsclient"} == names
    lefty = next(row for row in rows if row["Lead"].startswith("Lefty"))
    assert (lefty["Left behind"], lefty["Overdue tasks"]) == ("", "1")
    otto = next(row for row in rows if row["Lead"].startswith("Otto"))
    assert (otto["Attempts this week"], otto["Automated sends this week"], otto["Left behind"]) == ("0", "1", "yes")
    assert (otto["To follow up"], otto["Followed up this week"]) == ("yes", "")
    rows = _csv(client_for(rep).get("/reports/friday.csv", {"week": "2026-06-01", "rep": week_data["bob"].owner_id}))
    assert "Bobsclient" not in {row["Lead"].split()[0] for row in rows}
    rows = _csv(client_for(other_manager).get("/reports/friday.csv", {"week": "2026-06-01"}))
    assert {row["Lead"].split()[0] for row in rows} == {"Southerner"}


def test_page_shows_flags_and_chart_data(client_for, manager, week_data):
    with time_machine.travel(NOW, tick=False):
        response = client_for(manager).get("/reports/friday/", {"week": "2026-06-01"})
    html = response.content.decode()
    assert 'data-flag="left-behind"' in html and 'data-flag="closed-early"' in html
    assert 'id="friday-chart-data"' in html and "How this is counted" in html

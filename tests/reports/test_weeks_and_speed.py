import datetime as dt

import pytest
import time_machine

from cadences.models import Channel
from leads.models import LeadStatus
from reports.selectors.coverage import coverage_report
from reports.selectors.friday import friday_report
from reports.selectors.percentiles import percentile
from reports.selectors.period import day_start, leads_arrived_between, org_tz, week_bounds
from reports.selectors.scope import report_scope
from reports.selectors.speed import speed_report
from tests.reports.conftest import at, attempt, automated, make_lead


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (dt.date(2026, 11, 1), 169),  # DST ends Sunday Nov 1: week of Oct 26 is an hour longer
        (dt.date(2026, 3, 8), 167),  # DST starts Sunday Mar 8: week of Mar 2 is an hour shorter
        (dt.date(2026, 11, 4), 168),
        (dt.date(2026, 3, 9), 168),
    ],
)
def test_week_length_across_dst(settings, day, hours):
    start, end = week_bounds(day)
    assert (end - start) == dt.timedelta(hours=hours)
    assert start.astimezone(org_tz()).time() == dt.time(0, 0)
    assert end.astimezone(org_tz()).time() == dt.time(0, 0)


def test_week_boundary_after_dst_change_is_local_midnight(rep, manager):
    # Sunday Nov 1 23:30 EST is 04:30 UTC on Monday: still the week of Oct 26.
    late_sunday = make_lead(rep, "2026-11-01 23:30", status=LeadStatus.NEW)
    monday = make_lead(rep, "2026-11-02 00:30", status=LeadStatus.NEW)
    assert late_sunday.created_at == dt.datetime(2026, 11, 2, 4, 30, tzinfo=dt.UTC)
    now = at("2026-11-06 16:00")
    before = friday_report(user=manager, week_start=dt.date(2026, 10, 26), now=now)
    after = friday_report(user=manager, week_start=dt.date(2026, 11, 2), now=now)
    assert before.totals["received"] == 1 and after.totals["received"] == 1
    assert [lead.pk for lead in before.leads if lead.created_at >= before.start] == [late_sunday.pk]
    assert monday.pk in {lead.pk for lead in after.leads}
    assert before.end == after.start == dt.datetime(2026, 11, 2, 5, 0, tzinfo=dt.UTC)


def test_percentile_interpolates_like_percentile_cont():
    values = [1, 2, 3, 4, 10]
    assert percentile(values, 0.5) == 3
    assert percentile(values, 0.9) == pytest.approx(7.6)
    assert percentile([5], 0.9) == 5
    assert percentile([], 0.5) is None
    assert percentile([1, 2, 3, 4], 0.5) == 2.5


@pytest.fixture
def speed_data(rep, teammate, other_rep, web_source):
    """Five leads with automated first touches after 1, 2, 3, 4 and 10 minutes; calls after 4, 30, 120 min."""
    leads = []
    for i, (auto_min, call_min) in enumerate([(1, 4), (2, 30), (3, 120), (4, None), (10, None)]):
        arrived = dt.datetime(2026, 6, 1, 9, 0) + dt.timedelta(days=i)
        lead = make_lead(
            rep,
            arrived.isoformat(sep=" "),
            source=web_source,
            attempt_count=1 if call_min else 0,
            first_response_at=at((arrived + dt.timedelta(minutes=call_min)).isoformat(sep=" ")) if call_min else None,
        )
        automated(lead, (arrived + dt.timedelta(minutes=auto_min)).isoformat(sep=" "))
        if call_min:
            attempt(lead, (arrived + dt.timedelta(minutes=call_min)).isoformat(sep=" "), channel=Channel.CALL)
        leads.append(lead)
    # A lead only emailed by a person after 3 min: a human response, but no call.
    emailed = make_lead(rep, "2026-06-08 09:00", attempt_count=1, first_response_at=at("2026-06-08 09:03"))
    attempt(emailed, "2026-06-08 09:03", channel=Channel.EMAIL)
    make_lead(other_rep, "2026-06-01 09:00")
    return leads


def test_speed_medians_p90_and_shares(rep, speed_data):
    leads = leads_arrived_between(report_scope(user=rep), day_start(dt.date(2026, 6, 1)), None)
    report = speed_report(leads=leads)
    overall = report["overall"]
    assert overall["leads"] == 6
    assert overall["auto"]["median"] == dt.timedelta(minutes=3)
    assert overall["auto"]["p90"] == dt.timedelta(minutes=7.6)
    assert overall["call"]["median"] == dt.timedelta(minutes=30)
    assert overall["call"]["p90"] == dt.timedelta(minutes=102)  # 30 + 0.8 * (120 - 30)
    # By a person: 4 min and 3 min (email) within 5 min; plus 30 min within the hour.
    assert (overall["human_5m"], overall["human_1h"]) == (2, 3)
    # By anything: the five auto-responses (4 within 5 min) and the 3-minute email.
    assert (overall["any_5m"], overall["any_1h"]) == (5, 6)
    assert overall["human_5m_pct"] == pytest.approx(33.3)
    weeks = {row["week"]: row for row in report["by_week"]}
    assert set(weeks) == {dt.date(2026, 6, 1), dt.date(2026, 6, 8)}
    assert weeks[dt.date(2026, 6, 1)]["leads"] == 5
    assert weeks[dt.date(2026, 6, 1)]["auto"]["median"] == dt.timedelta(minutes=3)
    assert [row["name"] for row in report["by_source"]] == ["Website", "No source"]
    assert report["by_rep"][0]["owner"] == rep.pk and len(report["by_rep"]) == 1


def test_auto_responder_only_lead_is_an_automated_first_touch_not_human(rep):
    lead = make_lead(rep, "2026-06-01 09:00", status=LeadStatus.NEW)
    automated(lead, "2026-06-01 09:00:10", channel=Channel.SMS)
    report = speed_report(leads=report_scope(user=rep))
    overall = report["overall"]
    assert overall["auto"]["median"] == dt.timedelta(seconds=10)
    assert overall["call"]["n"] == 0 and overall["followed_up"] == 0 and overall["automated_only"] == 1
    assert (overall["human_5m"], overall["any_5m"]) == (0, 1)
    coverage = coverage_report(leads=report_scope(user=rep))
    assert (coverage["ge1"], coverage["automated_only"], coverage["never"]) == (0, 1, 1)


def test_speed_page_defaults_to_twelve_weeks(client_for, rep, speed_data):
    with time_machine.travel(at("2026-06-12 12:00"), tick=False):
        response = client_for(rep).get("/reports/speed/")
    assert response.status_code == 200
    assert response.context["report"]["overall"]["leads"] == 6
    assert "44 hours" in response.content.decode()

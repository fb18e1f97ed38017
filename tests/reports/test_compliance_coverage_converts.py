import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from cadences.models import Channel, Outcome
from leads.models import LeadStatus
from reports.selectors.compliance import compliance_report
from reports.selectors.scope import report_scope
from tests import factories
from tests.reports.conftest import at, attempt, automated, make_lead, scheduled

NOW = at("2026-06-30 12:00")


@pytest.fixture
def given_up(rep, teammate, other_rep):
    """Alice gives up on leads after 1, 1, 2, 3, 4, 0 and 6 nos; Bob once after 1; Charlie (South) once."""
    data = {}
    for i, (nos, attempts) in enumerate([(1, 1), (1, 2), (2, 2), (3, 5), (4, 6), (0, 0), (6, 7)]):
        data[f"alice{i}"] = make_lead(
            rep,
            "2026-06-01 09:00",
            status=LeadStatus.LOST if i % 2 == 0 else LeadStatus.UNQUALIFIED,
            closed="2026-06-10 09:00",
            objection_count=nos,
            attempt_count=attempts,
        )
    # Abandoned: open, arrived 29 days ago, last attempt 20 days ago, nothing scheduled, 1 no.
    data["abandoned"] = make_lead(rep, "2026-06-01 09:00", attempt_count=1, objection_count=1)
    attempt(data["abandoned"], "2026-06-10 09:00", outcome=Outcome.NOT_INTERESTED)
    # Not abandoned: something is scheduled.
    waiting = data["waiting"] = make_lead(rep, "2026-06-01 09:00", attempt_count=1)
    scheduled(waiting, "2026-07-02 10:00")
    # Not abandoned: an automated email went out 3 days ago.
    emailed = data["emailed"] = make_lead(rep, "2026-06-01 09:00")
    automated(emailed, "2026-06-27 10:00")
    data["bob"] = make_lead(
        teammate,
        "2026-06-01 09:00",
        status=LeadStatus.LOST,
        closed="2026-06-05 09:00",
        objection_count=1,
        attempt_count=1,
    )
    data["charlie"] = make_lead(
        other_rep, "2026-06-01 09:00", status=LeadStatus.LOST, closed="2026-06-05 09:00", objection_count=2
    )
    return data


def test_give_up_distribution_and_per_rep_counts(rep, teammate, manager, given_up):
    report = compliance_report(leads=report_scope(user=manager), now=NOW)
    # Given up in North: Alice's 7 closed + 1 abandoned, Bob's 1 = 9; 8 of them heard a no.
    assert report["given_up_total"] == 9
    assert report["given_up_with_no"] == 8
    counts = {row["nos"]: row["count"] for row in report["give_up"]}
    assert counts == {1: 4, 2: 1, 3: 1, 4: 1}  # alice 1, alice 1, abandoned 1, bob 1
    shares = {row["nos"]: row["share"] for row in report["give_up"]}
    assert shares == {1: 50.0, 2: 12.5, 3: 12.5, 4: 12.5}
    assert [row["industry"] for row in report["give_up"]] == [44, 22, 14, 12]
    assert report["given_up_after_5_plus"] == 1
    per_rep = {row["owner"]: row for row in report["per_rep"]}
    # Alice: fewer than 5 attempts on alice0, 1, 2, 5 (closed) and the abandoned one.
    assert per_rep[rep.pk]["given_up"] == 8
    assert (per_rep[rep.pk]["early"], per_rep[rep.pk]["early_closed"], per_rep[rep.pk]["early_abandoned"]) == (5, 4, 1)
    assert per_rep[teammate.pk]["early"] == 1
    assert set(per_rep) == {rep.pk, teammate.pk}


def test_compliance_drill_down_and_scoping(client_for, manager, rep, other_rep, given_up):
    with time_machine.travel(NOW, tick=False):
        client = client_for(manager)
        response = client.get("/reports/compliance/", {"rep": rep.pk})
        assert response.status_code == 200
        ids = {lead.pk for lead in response.context["page"].object_list}
        expected = {given_up[k].pk for k in ("alice0", "alice1", "alice2", "alice5", "abandoned")}
        assert ids == expected
        assert client.get("/reports/compliance/", {"rep": other_rep.pk}).status_code == 404
        # A rep asking for someone else's drill-down gets their own.
        response = client_for(rep).get("/reports/compliance/", {"rep": other_rep.pk})
        assert response.status_code == 200
        assert {lead.pk for lead in response.context["page"].object_list} == expected
        assert given_up["charlie"].pk not in {lead.pk for lead in response.context["page"].object_list}
        html = response.content.decode()
        assert 'id="giveup-chart-data"' in html and "44%" in html


def test_coverage_counts_and_never_followed_up_list(client_for, rep, teammate, manager):
    untouched = make_lead(rep, "2026-06-01 09:00", status=LeadStatus.NEW)
    auto_only = make_lead(rep, "2026-06-01 10:00", status=LeadStatus.NEW)
    automated(auto_only, "2026-06-01 10:00:05")
    make_lead(rep, "2026-06-01 11:00", attempt_count=1)
    make_lead(rep, "2026-06-01 12:00", attempt_count=2)
    make_lead(rep, "2026-06-01 13:00", attempt_count=5, status=LeadStatus.WON, closed="2026-06-05 09:00")
    closed_untouched = make_lead(rep, "2026-06-01 14:00", status=LeadStatus.UNQUALIFIED, closed="2026-06-02 09:00")
    bobs = make_lead(teammate, "2026-06-01 09:00", status=LeadStatus.NEW)
    response = client_for(rep).get("/reports/coverage/")
    report = response.context["report"]
    assert report["total"] == 6
    assert (report["ge1"], report["ge2"], report["ge5"]) == (3, 2, 1)
    # Never followed up: no attempt, whatever the auto-responder sent (the same leads as Converts' "Never").
    assert (report["never"], report["automated_only"]) == (3, 1)
    assert report["ge1"] + report["never"] == report["total"]
    html = response.content.decode()
    assert "50% of 6" in html and "17% of 6" in html
    ids = [lead.pk for lead in response.context["page"].object_list]
    assert ids == [untouched.pk, auto_only.pk]  # open only, oldest first; the closed one is not listed
    assert closed_untouched.pk not in ids and bobs.pk not in ids
    ids = [lead.pk for lead in client_for(manager).get("/reports/coverage/").context["page"].object_list]
    assert set(ids) == {untouched.pk, auto_only.pk, bobs.pk}


def test_converts_cost_per_won_and_wasted_spend(client_for, rep, manager, other_rep):
    paid = factories.LeadSourceFactory(name="Paid ads", cost_per_lead=Decimal("10.00"))
    expo = factories.LeadSourceFactory(name="Expo", cost_per_lead=Decimal("25.00"))
    won = make_lead(
        rep,
        "2026-06-01 09:00",
        source=paid,
        status=LeadStatus.WON,
        closed="2026-06-08 09:00",
        attempt_count=3,
        first_response_at=at("2026-06-01 09:02"),
    )
    attempt(won, "2026-06-01 09:02")
    attempt(won, "2026-06-02 09:00", channel=Channel.EMAIL)
    make_lead(rep, "2026-06-01 10:00", source=paid, status=LeadStatus.NEW)  # never followed up
    make_lead(rep, "2026-06-01 11:00", source=paid, status=LeadStatus.NEW)  # never followed up
    auto_only = make_lead(rep, "2026-06-01 12:00", source=paid, status=LeadStatus.NEW)
    automated(auto_only, "2026-06-01 12:00:10")  # only the system wrote: never followed up, wasted too
    for hour, minutes in ((13, 45), (14, 300)):
        lead = make_lead(
            rep,
            f"2026-06-01 {hour}:00",
            source=expo,
            status=LeadStatus.WON,
            closed="2026-06-09 09:00",
            attempt_count=1,
            first_response_at=at(f"2026-06-01 {hour}:00") + dt.timedelta(minutes=minutes),
        )
        attempt(lead, (at(f"2026-06-01 {hour}:00") + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M"))
    charlie_source = factories.LeadSourceFactory(name="South fair", cost_per_lead=Decimal("99.00"))
    make_lead(other_rep, "2026-06-01 09:00", source=charlie_source)

    report = client_for(manager).get("/reports/converts/").context["report"]
    sources = {row["name"]: row for row in report["by_source"]}
    assert set(sources) == {"Paid ads", "Expo"}
    assert (sources["Paid ads"]["spend"], sources["Paid ads"]["won"]) == (Decimal("40.00"), 1)
    assert sources["Paid ads"]["cost_per_won"] == Decimal("40.00")
    assert (sources["Paid ads"]["never"], sources["Paid ads"]["wasted"]) == (3, Decimal("30.00"))
    assert sources["Expo"]["cost_per_won"] == Decimal("25.00") and sources["Expo"]["wasted"] is None
    assert report["spend"] == Decimal("90.00") and report["won"] == 3
    assert report["cost_per_won"] == Decimal("30.00")
    assert report["wasted"] == Decimal("30.00") and report["never"] == 3
    buckets = {row["label"]: (row["leads"], row["won"]) for row in report["by_response"]}
    assert buckets == {"< 5 min": (1, 1), "< 1 hour": (1, 1), "< 1 day": (1, 1), "Later": (0, 0), "Never": (3, 0)}
    attempts = {row["label"]: (row["leads"], row["won"], row["rate"]) for row in report["by_attempts"]}
    assert attempts["0"] == (3, 0, 0.0) and attempts["1"] == (2, 2, 100.0) and attempts["3"] == (1, 1, 100.0)
    channels = {row["label"]: (row["leads"], row["won"]) for row in report["by_channel"]}
    assert channels == {"Call": (3, 3), "Email": (2, 1)}

"""One fixture, one truth: Feedback Friday, its CSV, Coverage, What converts, Speed to lead and Five
attempts count the same leads the same way (reports.selectors.vocabulary), across a DST week."""

import csv
import io

import pytest
import time_machine

from reports.selectors.friday import friday_report
from reports.selectors.period import week_bounds
from reports.selectors.vocabulary import follow_up_counts_by_owner
from tests.reports.conftest import AFTER_DST_WEEK, DST_WEEK, DST_WEEK_END, at

RANGE = {"date_from": DST_WEEK.isoformat(), "date_to": DST_WEEK_END.isoformat()}


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def pages(client_for, manager, dst_week):
    """Every report as Mona sees it on the Monday after the week."""
    client = client_for(manager)
    with time_machine.travel(at(AFTER_DST_WEEK), tick=False):
        return {
            "friday": client.get("/reports/friday/", {"week": DST_WEEK.isoformat()}),
            "csv": _csv(client.get("/reports/friday.csv", {"week": DST_WEEK.isoformat()})),
            "coverage": client.get("/reports/coverage/", RANGE),
            "converts": client.get("/reports/converts/", RANGE),
            "speed": client.get("/reports/speed/", RANGE),
            "compliance": client.get("/reports/compliance/", RANGE),
        }


def test_the_week_is_167_hours_and_holds_sunday_night_after_the_change(dst_week):
    start, end = week_bounds(DST_WEEK)
    assert (end - start).total_seconds() == 167 * 3600
    assert start <= dst_week["a9"].created_at < end <= dst_week["a12"].created_at


def test_friday_totals_are_the_hand_computed_ones(pages):
    totals = pages["friday"].context["report"].totals
    assert totals["received"] == 12
    assert (totals["left_behind"], totals["to_follow_up"], totals["followed_up"]) == (4, 14, 6)
    assert totals["received_followed_up"] == 6
    assert (totals["given_up"], totals["closed_early"], totals["compliant"]) == (3, 2, 1)
    assert totals["attempts"] == 11


def test_every_report_counts_the_same_leads_the_same_way(pages, rep, teammate):
    friday = pages["friday"].context["report"].totals
    rows = pages["csv"]
    coverage = pages["coverage"].context["report"]
    converts = pages["converts"].context["report"]
    speed = pages["speed"].context["report"]["overall"]
    compliance = pages["compliance"].context["report"]

    arrived = [row for row in rows if DST_WEEK.isoformat() <= row["Arrived"][:10] <= DST_WEEK_END.isoformat()]
    # Leads that arrived in the week.
    assert friday["received"] == len(arrived) == coverage["total"] == converts["leads"] == speed["leads"] == 12
    # Followed up (at least one attempt; automated messages do not count).
    followed = [row for row in arrived if row["Followed up this week"] == "yes"]
    assert friday["received_followed_up"] == len(followed) == coverage["ge1"] == speed["followed_up"] == 6
    never = next(row for row in converts["by_response"] if row["label"] == "Never")
    assert never["leads"] == converts["never"] == coverage["never"] == speed["leads"] - speed["followed_up"] == 6
    assert sum(row["never"] for row in converts["by_source"]) == 6
    # Reached only by automated messages.
    automated_only = [
        row for row in arrived if row["Attempts total"] == "0" and row["Automated sends this week"] != "0"
    ]
    assert coverage["automated_only"] == speed["automated_only"] == len(automated_only) == 3
    # Left behind, followed up x of n, closed early: page, CSV and the per-rep function agree.
    assert friday["left_behind"] == sum(row["Left behind"] == "yes" for row in rows) == 4
    assert friday["to_follow_up"] == sum(row["To follow up"] == "yes" for row in rows) == 14
    assert friday["followed_up"] == sum(row["To follow up"] == row["Followed up this week"] == "yes" for row in rows)
    assert friday["closed_early"] == sum(row["Closed early"] == "yes" for row in rows) == 2
    assert friday["attempts"] == sum(int(row["Attempts this week"]) for row in rows) == 11
    assert sum(row["early_closed"] for row in compliance["per_rep"]) == friday["closed_early"]
    # Team today's per-rep counts come from the same function as Friday's lines.
    report = pages["friday"].context["report"]
    counts = follow_up_counts_by_owner(leads=report.scope, start=report.start, end=report.end)
    for person in report.reps:
        mine = counts.get(person.pk, {})
        assert (mine.get("left_behind", 0), mine.get("followed_up", 0)) == (person.left_behind, person.followed_up)
    assert (counts[rep.pk]["left_behind"], counts[teammate.pk]["left_behind"]) == (3, 1)


def test_yesterdays_contradictions_cannot_happen(pages, dst_week):
    rows = {row["Lead ID"]: row for row in pages["csv"]}
    # Won, appointment-set, nurturing and closed leads are never left behind.
    for key in ("a4", "a5", "a6", "a7", "a8", "b1"):
        assert rows[str(dst_week[key].pk)]["Left behind"] == "", key
    # A waiting (pending) or paused next step is a next action: not left behind.
    for key in ("a9", "a10"):
        assert rows[str(dst_week[key].pk)]["Left behind"] == "", key
    # A left-behind lead is never followed up: 100% followed up beside a left-behind lead is impossible.
    for person in pages["friday"].context["report"].reps:
        if person.left_behind:
            assert person.followed_up < person.to_follow_up
    # "Never followed up" on Coverage lists the open leads Friday shows with 0 attempts.
    listed = {lead.pk for lead in pages["coverage"].context["page"].object_list}
    assert listed == {dst_week[k].pk for k in ("a1", "a6", "a9", "a10", "b2")}


def test_the_pages_show_rates_with_their_sample_size(pages):
    friday = pages["friday"].content.decode()
    assert "43% of 14" in friday  # 6 of 14 followed up
    assert "33% of 3" in friday and 'data-few="1"' in friday  # five attempts: 1 of 3, few data
    speed = pages["speed"].content.decode()
    assert "few data · n=4" in speed  # four automated first touches
    for page in ("friday", "coverage", "converts", "speed", "compliance"):
        html = pages[page].content.decode()
        assert 'data-term="left-behind"' in html and 'data-term="followed-up"' in html, page


def test_friday_report_from_the_selector_matches_the_page(manager, dst_week):
    report = friday_report(user=manager, week_start=DST_WEEK, now=at(AFTER_DST_WEEK))
    lines = {person.pk: person for person in report.reps}
    alice = lines[dst_week["a1"].owner_id]
    assert (alice.received, alice.to_follow_up, alice.followed_up, alice.left_behind) == (10, 12, 5, 3)
    assert (alice.closed_early, alice.given_up, alice.attempts) == (2, 2, 6)
    bob = lines[dst_week["b1"].owner_id]
    assert (bob.received, bob.to_follow_up, bob.followed_up, bob.left_behind) == (2, 2, 1, 1)
    assert (bob.closed_early, bob.given_up, bob.compliant, bob.attempts) == (0, 1, 1, 5)

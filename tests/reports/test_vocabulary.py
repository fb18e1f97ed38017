"""Each term of reports.selectors.vocabulary on its own, and its definitions' text where it is shown."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils.html import escape

from cadences.models import Channel, Outcome, Touch, TouchStatus
from leads.models import Lead, LeadStatus
from reports.selectors import vocabulary
from reports.selectors.period import week_bounds
from reports.selectors.vocabulary import (
    DEFINITIONS,
    abandoned_q,
    attempt_q,
    automated_only_q,
    automated_touch_q,
    closed_early_q,
    definitions,
    first_automated_touch_at,
    first_call_at,
    follow_up_counts_by_owner,
    followed_up_q,
    given_up_q,
    left_behind_q,
    never_followed_up_q,
    to_follow_up_q,
)
from tests import factories
from tests.reports.conftest import at, attempt, automated, closed, make_lead, scheduled, worked

WEEK = dt.date(2026, 6, 1)
START, END = week_bounds(WEEK)
NOW = at("2026-06-30 12:00")


def _ids(q) -> set[int]:
    return set(Lead.objects.filter(q).values_list("pk", flat=True))


def _touch_ids(q) -> set[int]:
    return set(Touch.objects.filter(q).values_list("pk", flat=True))


# Attempt and automated touch ---------------------------------------------------------------


def test_an_attempt_is_a_manual_touch_done_with_a_real_outcome(rep):
    lead = make_lead(rep, "2026-06-01 09:00")
    call = attempt(lead, "2026-06-01 10:00")
    linkedin = attempt(lead, "2026-06-02 10:00", channel=Channel.LINKEDIN, outcome=Outcome.SENT)
    wrong = attempt(lead, "2026-06-03 10:00", outcome=Outcome.WRONG_NUMBER)
    no_outcome = attempt(lead, "2026-06-03 11:00", outcome="")
    skipped = factories.TouchFactory(lead=lead, status=TouchStatus.SKIPPED, outcome=Outcome.NO_ANSWER)
    email = automated(lead, "2026-06-01 09:00:10")
    assert _touch_ids(attempt_q()) == {call.pk, linkedin.pk, wrong.pk}
    assert no_outcome.pk not in _touch_ids(attempt_q()) and skipped.pk not in _touch_ids(attempt_q())
    assert email.pk not in _touch_ids(attempt_q())
    # In a period: [start, end), by completion time.
    assert _touch_ids(attempt_q(start=at("2026-06-02 10:00"), end=at("2026-06-03 10:00"))) == {linkedin.pk}
    assert _touch_ids(attempt_q(channel=Channel.CALL)) == {call.pk, wrong.pk}


def test_an_automated_touch_is_one_the_provider_accepted(rep):
    lead = make_lead(rep, "2026-06-01 09:00")
    sent = automated(lead, "2026-06-01 09:00:10")
    delivered = automated(lead, "2026-06-01 09:00:20", channel=Channel.SMS, status=TouchStatus.DELIVERED)
    failed = automated(lead, "2026-06-01 09:00:30", status=TouchStatus.FAILED)
    sending = automated(lead, "2026-06-01 09:00:40", status=TouchStatus.SENDING)
    assert _touch_ids(automated_touch_q()) == {sent.pk, delivered.pk}
    assert failed.pk not in _touch_ids(automated_touch_q()) and sending.pk not in _touch_ids(automated_touch_q())


# Followed up and first response ------------------------------------------------------------


def test_followed_up_needs_an_attempt_automated_messages_alone_do_not_count(rep):
    human = make_lead(rep, "2026-06-01 09:00", status=LeadStatus.NEW)
    worked(human, "2026-06-02 10:00")
    auto = make_lead(rep, "2026-06-01 10:00", status=LeadStatus.NEW)
    automated(auto, "2026-06-01 10:00:05")
    nothing = make_lead(rep, "2026-06-01 11:00", status=LeadStatus.NEW)
    assert _ids(followed_up_q()) == {human.pk}
    assert _ids(never_followed_up_q()) == {auto.pk, nothing.pk}
    assert _ids(automated_only_q()) == {auto.pk}
    # In a period: an attempt in it (the counter says "ever").
    assert _ids(followed_up_q(start=START, end=END)) == {human.pk}
    assert _ids(followed_up_q(start=END, end=END + dt.timedelta(days=7))) == set()


def test_first_response_is_two_figures_the_first_automated_touch_and_the_first_attempt(rep):
    lead = make_lead(rep, "2026-06-01 09:00", status=LeadStatus.NEW)
    automated(lead, "2026-06-01 09:00:30", channel=Channel.SMS)
    automated(lead, "2026-06-01 09:00:10")
    worked(lead, "2026-06-01 09:20", channel=Channel.EMAIL, outcome=Outcome.SENT)
    worked(lead, "2026-06-01 09:40")
    row = Lead.objects.annotate(auto=first_automated_touch_at(), call=first_call_at()).get(pk=lead.pk)
    assert row.auto == at("2026-06-01 09:00:10")
    assert row.first_response_at == at("2026-06-01 09:20")  # the first attempt, any channel
    assert row.call == at("2026-06-01 09:40")  # the first attempt on the call channel


# Left behind -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "left"),
    [
        (LeadStatus.NEW, True),
        (LeadStatus.WORKING, True),
        (LeadStatus.APPOINTMENT, False),
        (LeadStatus.NURTURING, False),
        (LeadStatus.WON, False),
        (LeadStatus.LOST, False),
        (LeadStatus.UNQUALIFIED, False),
    ],
)
def test_only_new_and_working_leads_can_be_left_behind(rep, status, left):
    closed_at = "2026-06-03 09:00" if status in (LeadStatus.WON, LeadStatus.LOST, LeadStatus.UNQUALIFIED) else None
    lead = make_lead(rep, "2026-06-01 09:00", status=status, closed=closed_at)
    assert (lead.pk in _ids(left_behind_q(start=START, end=END))) is left


@pytest.mark.parametrize(
    ("touch_status", "left"),
    [
        (TouchStatus.SCHEDULED, False),
        (TouchStatus.PENDING, False),
        (TouchStatus.PAUSED, False),
        (TouchStatus.SENDING, False),
        (TouchStatus.CANCELLED, True),
        (TouchStatus.SKIPPED, True),
        (TouchStatus.FAILED, True),
    ],
)
@pytest.mark.parametrize("automated_touch", [False, True])
def test_a_next_action_waiting_manual_or_automated_means_not_left_behind(rep, touch_status, left, automated_touch):
    lead = make_lead(rep, "2026-06-01 09:00", status=LeadStatus.WORKING)
    touch = scheduled(lead, "2026-06-10 09:00", channel=Channel.EMAIL, automated_touch=automated_touch)
    Touch.objects.filter(pk=touch.pk).update(status=touch_status)
    assert (lead.pk in _ids(left_behind_q(start=START, end=END))) is left


def test_left_behind_is_no_attempt_in_the_period_whatever_came_before(rep):
    before = make_lead(rep, "2026-05-20 09:00", status=LeadStatus.NEW)
    worked(before, "2026-05-20 10:00")  # last week: left behind this week
    this_week = make_lead(rep, "2026-05-20 09:00", status=LeadStatus.NEW)
    worked(this_week, "2026-06-02 10:00")
    auto = make_lead(rep, "2026-06-01 09:00", status=LeadStatus.NEW)
    automated(auto, "2026-06-01 09:00:05")  # automated only: left behind
    later = make_lead(rep, "2026-06-08 09:00", status=LeadStatus.NEW)  # arrived after the week
    assert _ids(left_behind_q(start=START, end=END)) == {before.pk, auto.pk}
    assert later.pk not in _ids(to_follow_up_q(start=START, end=END))
    # To follow up: arrived in the week (auto), or left behind in it (before).
    assert _ids(to_follow_up_q(start=START, end=END)) == {before.pk, auto.pk}


# Abandoned, closed early, given up ---------------------------------------------------------


def test_abandoned_is_open_no_touch_for_the_days_and_nothing_scheduled(rep, settings):
    settings.ABANDONED_AFTER_DAYS = 14
    quiet = make_lead(rep, "2026-06-01 09:00", status=LeadStatus.NURTURING)
    worked(quiet, "2026-06-10 09:00")  # 20 days before NOW
    emailed = make_lead(rep, "2026-06-01 09:00")
    automated(emailed, "2026-06-25 10:00")  # a touch within the days
    waiting = make_lead(rep, "2026-06-01 09:00")
    scheduled(waiting, "2026-07-02 10:00")
    young = make_lead(rep, "2026-06-20 09:00")  # arrived 10 days ago
    won = make_lead(rep, "2026-06-01 09:00", status=LeadStatus.WON, closed="2026-06-02 09:00")
    assert _ids(abandoned_q(NOW)) == {quiet.pk}
    assert {emailed.pk, waiting.pk, young.pk, won.pk}.isdisjoint(_ids(abandoned_q(NOW)))
    assert quiet.pk in _ids(given_up_q(NOW))


def test_closed_early_is_lost_or_unqualified_with_too_few_attempts(rep, settings):
    settings.MIN_ATTEMPTS_BEFORE_CLOSE = 5
    four = make_lead(rep, "2026-06-01 09:00", status=LeadStatus.LOST, closed="2026-06-03 09:00", attempt_count=4)
    five = make_lead(rep, "2026-06-01 09:00", status=LeadStatus.LOST, closed="2026-06-03 09:00", attempt_count=5)
    spam = make_lead(rep, "2026-06-01 09:00", status=LeadStatus.UNQUALIFIED, closed="2026-06-10 09:00")
    won = make_lead(rep, "2026-06-01 09:00", status=LeadStatus.WON, closed="2026-06-03 09:00")
    assert _ids(closed_early_q()) == {four.pk, spam.pk}
    assert _ids(closed_early_q(start=START, end=END)) == {four.pk}  # spam closed the week after
    assert {five.pk, won.pk}.isdisjoint(_ids(closed_early_q()))


def test_follow_up_counts_by_owner_for_team_today(rep, teammate):
    mine = make_lead(rep, "2026-06-01 09:00", status=LeadStatus.NEW)
    called = make_lead(rep, "2026-06-01 10:00", status=LeadStatus.NEW)
    worked(called, "2026-06-01 10:05")
    bobs = make_lead(teammate, "2026-06-02 09:00", status=LeadStatus.NEW)
    closed(bobs, LeadStatus.UNQUALIFIED, "2026-06-02 10:00")
    counts = follow_up_counts_by_owner(leads=Lead.objects.all(), start=START, end=END)
    assert counts[rep.pk] == {
        "received": 2,
        "received_followed_up": 1,
        "to_follow_up": 2,
        "followed_up": 1,
        "left_behind": 1,
        "given_up": 0,
        "closed_early": 0,
    }
    assert (counts[teammate.pk]["closed_early"], counts[teammate.pk]["left_behind"]) == (1, 0)
    assert mine.pk in _ids(left_behind_q(start=START, end=END))


# The definitions' text ---------------------------------------------------------------------


def _words(text: str) -> str:
    return re.sub(r"[\s*`]+", " ", text).lower()


def test_every_definition_is_in_the_module_docstring_and_readme():
    doc = _words(vocabulary.__doc__)
    readme = Path(__file__).resolve().parents[2].joinpath("README.md").read_text()
    section = readme[readme.index("## How this is counted") :]
    section = _words(section[: section.index("\n## ", 3)])
    for term, _ in DEFINITIONS:
        if term == "Followed up x of n":
            term = "to follow up"
        assert term.lower() in doc, term
        assert term.lower() in section, term


def test_definitions_carry_this_installations_numbers(settings):
    settings.MIN_ATTEMPTS_BEFORE_CLOSE = 7
    settings.ABANDONED_AFTER_DAYS = 21
    text = dict(definitions())
    assert "fewer than 7 attempts" in text["Closed early"]
    assert "more than 21 days ago" in text["Abandoned"]
    assert "{" not in " ".join(text.values())


@pytest.mark.parametrize("url", ["/reports/friday/", "/reports/compliance/", "/reports/speed/", "/reports/coverage/"])
def test_every_page_shows_the_same_definitions(client_for, rep, url):
    html = client_for(rep).get(url).content.decode()
    for term, text in definitions():
        assert f"<strong>{term}</strong>: {escape(text)}" in html, (url, term)

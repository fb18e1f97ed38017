"""Today in a real browser: one row per lead on the demo data, outcomes that replace or remove the
row without a reload, "Not interested" → close / nurture / keep going, errors inside the row, and
the page at 390 px."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from cadences.models import Cadence, CadenceKind, Channel, Touch, TouchStatus
from leads.models import LeadStatus
from tests import factories
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def utc_reps(rep, other_rep):
    for user in (rep, other_rep):
        user.timezone = "UTC"
        user.save(update_fields=["timezone"])


def _today_task(make_task, owner, **kwargs):
    """A task due a minute ago: on today's list whatever the hour."""
    return make_task(owner, due=dt.timedelta(minutes=-1), **kwargs)


def _rows(page) -> list[dict]:
    return page.eval_on_selector_all(
        ".today-row", "els => els.map(e => ({lead: e.dataset.lead, touch: e.dataset.touch}))"
    )


def test_demo_data_shows_one_row_per_lead(browser, live_server):
    call_command("seed_demo", stdout=io.StringIO())
    demo_rep = User.objects.get(username="rep")
    demo_rep.set_password(factories.PASSWORD)
    demo_rep.save(update_fields=["password"])
    page = login(browser, live_server, demo_rep)
    rows = _rows(page)
    assert rows, "the demo rep has work today"
    leads = [row["lead"] for row in rows]
    assert len(leads) == len(set(leads)), f"two rows share a lead: {leads}"
    assert all(row["lead"] and row["touch"] for row in rows)
    # Each row is that lead's own task, and the counters count the rows.
    touches = Touch.objects.in_bulk([int(row["touch"]) for row in rows])
    assert all(str(touches[int(row["touch"])].lead_id) == row["lead"] for row in rows)
    if page.locator("text=Show more").count() == 0:
        assert f"Remaining: {len(rows)}" in page.inner_text("#today-counters")


def test_outcome_replaces_the_row_or_leaves_with_a_confirmation(browser, live_server, rep, utc_reps, make_task):
    first = _today_task(make_task, rep, step="instant")
    lead = first.lead
    nxt = _today_task(make_task, rep, step="day5_email", lead=lead)
    alone = _today_task(make_task, rep)
    factories.TouchFactory(
        lead=alone.lead,
        channel=Channel.EMAIL,
        automated=True,
        assigned_to=None,
        status=TouchStatus.PENDING,
        due_at=timezone.now() + dt.timedelta(days=3),
    )

    page = login(browser, live_server, rep)
    assert "Done today: 0" in page.inner_text("#today-counters")
    assert page.locator(f"#touch-{nxt.pk}").count() == 0  # one row per lead: the instant call
    page.evaluate("window.__noReload = 'still here'")
    page.locator(f"#touch-{first.pk} button[data-outcome=connected]").click()
    page.wait_for_selector(f"#touch-{first.pk}", state="detached")
    row = page.locator(f".today-row[data-lead='{lead.pk}']")
    assert row.get_attribute("data-touch") == str(nxt.pk)
    assert "Day 5 of 28" in row.inner_text()
    assert "Done today: 1" in page.inner_text("#today-counters")

    # The other lead's next step is in three days: a confirmation where the row was, then it fades.
    page.locator(f"#touch-{alone.pk} button[data-outcome=no_answer]").click()
    notice = page.locator(f".today-notice[data-notice-for='{alone.lead_id}']")
    notice.wait_for()
    assert "Logged: No answer — next: Email on" in notice.inner_text()
    assert page.locator(f".today-row[data-lead='{alone.lead_id}']").count() == 0
    notice.wait_for(state="detached", timeout=8000)
    assert page.evaluate("window.__noReload") == "still here"


def test_a_task_done_elsewhere_says_so_inside_its_row(browser, live_server, rep, utc_reps, make_task):
    task = _today_task(make_task, rep)
    page = login(browser, live_server, rep)
    Touch.objects.filter(pk=task.pk).update(status=TouchStatus.DONE, completed_at=timezone.now())  # "another tab"
    page.locator(f"#touch-{task.pk} button[data-outcome=connected]").click()
    message = page.locator(f"#touch-{task.pk}[role=alert]")
    message.wait_for()
    assert "already done" in message.inner_text()
    # Nothing at the top of the page: the message is where the rep clicked.
    assert page.locator(".alert-danger:not(.today-row-message)").count() == 0


def test_not_interested_close_nurture_keep_going(browser, live_server, rep, utc_reps, make_task):
    Cadence.objects.filter(kind=CadenceKind.NURTURE).update(active=False)  # this test's own, not the shipped one
    nurture = factories.CadenceFactory(name="Nurture six months", kind=CadenceKind.NURTURE)
    factories.CadenceStepFactory(
        cadence=nurture, day=30, channel=Channel.EMAIL, automated=True, subject="Hi", body="Hi"
    )
    closing, nurturing, keeping = (_today_task(make_task, rep) for _ in range(3))
    closing.lead.attempt_count = 1
    closing.lead.save(update_fields=["attempt_count"])
    page = login(browser, live_server, rep)

    # Close: refused under five attempts, the rule's message inside the row.
    page.locator(f"#touch-{closing.pk} button[data-outcome=not_interested]").click()
    question = page.locator(f"#touch-{closing.pk}.today-decision")
    question.wait_for()
    question.locator("input[name=reason]").fill("Chose a competitor")
    question.locator("button[data-decision=close]").click()
    page.wait_for_selector(f"#touch-{closing.pk} .today-row-message")
    assert "Only 2 of 5 attempts logged" in page.inner_text(f"#touch-{closing.pk} .today-row-message")
    assert page.input_value(f"#touch-{closing.pk} input[name=reason]") == "Chose a competitor"
    closing.lead.refresh_from_db()
    assert closing.lead.status == LeadStatus.WORKING
    # ...and allowed at five.
    closing.lead.attempt_count = 5
    closing.lead.save(update_fields=["attempt_count"])
    page.locator(f"#touch-{closing.pk} button[data-decision=close]").click()
    page.wait_for_selector(f".today-notice[data-notice-for='{closing.lead_id}']")
    assert "Closed as lost" in page.inner_text(f".today-notice[data-notice-for='{closing.lead_id}']")
    closing.lead.refresh_from_db()
    assert closing.lead.status == LeadStatus.LOST

    # Nurture.
    page.locator(f"#touch-{nurturing.pk} button[data-outcome=not_interested]").click()
    page.locator(f"#touch-{nurturing.pk} button[data-decision=nurture]").click()
    page.wait_for_selector(f".today-notice[data-notice-for='{nurturing.lead_id}']")
    assert "Moved to long-term nurture" in page.inner_text(f".today-notice[data-notice-for='{nurturing.lead_id}']")
    nurturing.lead.refresh_from_db()
    assert nurturing.lead.status == LeadStatus.NURTURING
    assert nurturing.lead.enrollments.get(state="active").cadence == nurture

    # Keep going: the lead's next task (due today) takes the row.
    again = factories.TouchFactory(lead=keeping.lead, title="Send the case study", channel=Channel.EMAIL)
    page.locator(f"#touch-{keeping.pk} button[data-outcome=not_interested]").click()
    page.locator(f"#touch-{keeping.pk} button[data-decision=keep]").click()
    page.wait_for_selector(f"#touch-{again.pk}[data-lead='{keeping.lead_id}']")
    assert "Send the case study" in page.inner_text(f"#touch-{again.pk}")
    keeping.lead.refresh_from_db()
    assert keeping.lead.status == LeadStatus.WORKING


def test_today_at_390px_never_scrolls_sideways(browser, live_server, rep, utc_reps, make_task):
    lead = factories.LeadFactory(
        owner=rep,
        company="A Company With A Really Quite Long Name Incorporated",
        email="someone.with.a.very.long.address@an-example-domain-of-some-length.example.org",
        interest="Wants to replace the spreadsheet the whole office shares with something that follows up for them",
    )
    tasks = [_today_task(make_task, rep, step="day5_email", lead=lead)] + [
        _today_task(make_task, rep) for _ in range(6)
    ]
    factories.ContactFactory(owner=rep)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = login(browser, live_server, rep, page=context.new_page())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The referral block and quick-add sit above the tasks, not after every one of them.
    first_row = page.locator(f"#touch-{tasks[0].pk}").bounding_box()
    assert page.locator("#referrals").bounding_box()["y"] < first_row["y"]
    quick_add = page.locator("#quick-add-card").bounding_box()
    assert quick_add["y"] < first_row["y"] and quick_add["y"] < 844
    page.click("#quick-add-card a[href='#quick-add']")
    page.wait_for_selector("#quick-add input[name=first_name]", state="visible")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Opening a card's "More" and script keeps it inside the screen too.
    page.locator(f"#touch-{tasks[0].pk} .today-more summary").click()
    page.locator(f"#touch-{tasks[0].pk} .today-script summary").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()

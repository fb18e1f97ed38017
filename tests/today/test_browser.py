"""The rep's day in a real browser: log in, log an outcome, the next task appears without a reload."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_logs_outcome_and_next_task_appears_without_reload(browser, live_server, rep, other_rep, make_task):
    for user in (rep, other_rep):
        user.timezone = "UTC"
        user.save(update_fields=["timezone"])
    first = make_task(rep, step="instant", due=dt.timedelta(minutes=-3))
    lead = first.lead
    nxt = make_task(rep, step="day5_email", lead=lead, due=dt.timedelta(minutes=1))
    # Keep the next task on today's list whatever the hour.
    nxt.due_at = min(nxt.due_at, timezone.now().replace(hour=23, minute=59))
    nxt.save(update_fields=["due_at"])

    page = login(browser, live_server, rep)
    row = page.locator(f"#touch-{first.pk}")
    assert lead.full_name in row.inner_text()
    assert "Done today: 0" in page.inner_text("#today-counters")
    page.evaluate("window.__noReload = 'still here'")
    row.locator("button[data-outcome=connected]").click()
    page.wait_for_selector(f"#touch-{first.pk}", state="detached")
    page.wait_for_selector(f"#touch-{nxt.pk}")
    assert page.evaluate("window.__noReload") == "still here"
    assert "Done today: 1" in page.inner_text("#today-counters")
    assert page.locator(".today-row").count() == 1
    assert "Day 5 of 28" in page.inner_text(f"#touch-{nxt.pk}")

    # Another rep sees none of it and cannot complete it.
    other = login(browser, live_server, other_rep)
    assert other.locator(".today-row").count() == 0
    assert "All caught up" in other.inner_text("body")
    status = other.evaluate(
        """async (url) => {
            const token = document.querySelector("input[name=csrfmiddlewaretoken]")?.value
                || JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
            const r = await fetch(url, {method: "POST", headers: {"X-CSRFToken": token,
                "Content-Type": "application/x-www-form-urlencoded"}, body: "outcome=connected"});
            return r.status;
        }""",
        f"{live_server.url}/today/touches/{nxt.pk}/outcome/",
    )
    assert status == 404
    nxt.refresh_from_db()
    assert nxt.status == "scheduled"

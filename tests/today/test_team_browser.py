"""Team today in a real browser: check a rep's overdue tasks and new leads ("All of these"), reassign
them in one click without a reload, a rejected request said in the bar with the selection kept,
and the page at 390 px with long names and every list open."""

import datetime as dt

import pytest

from cadences.models import Touch, TouchStatus
from leads.models import Lead
from tests import factories
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def work(rep, teammate, manager, make_task):
    for user in (rep, teammate, manager):
        user.timezone = "UTC"
        user.save(update_fields=["timezone"])
    late = [make_task(rep, due=dt.timedelta(hours=-h)) for h in (2, 3)]
    new = factories.LeadFactory(owner=rep, first_name="Wilhelmina", last_name="Featherstonehaugh-Montgomery")
    return {"late": late, "new": new}


def _open_alice(page, rep):
    page.click(f"[data-rep='{rep.pk}'] details.team-select summary")


def test_select_all_and_reassign_in_one_click(browser, live_server, rep, teammate, manager, work):
    page = login(browser, live_server, manager, lands_on="/today/team/")
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    _open_alice(page, rep)
    page.check(f"[data-rep='{rep.pk}'] [data-select-all]")
    # Two tasks and three new leads (the tasks' leads are new and never called too).
    assert page.inner_text("#team-selected-count") == "5 selected"
    page.select_option("#team-reassign-to", str(teammate.pk))
    page.click("#team-reassign-submit")
    page.wait_for_selector("#team-notice")
    assert page.inner_text("#team-notice") == f"Reassigned 3 leads and 2 tasks to {teammate}."
    assert page.inner_text("#team-selected-count") == "selected"
    assert set(Touch.objects.filter(pk__in=[t.pk for t in work["late"]]).values_list("assigned_to", flat=True)) == {
        teammate.pk
    }
    assert Lead.objects.get(pk=work["new"].pk).owner == teammate
    assert page.url == f"{live_server.url}/today/team/"
    assert not errors, errors


def test_a_rejected_reassign_is_said_in_the_bar_with_the_selection_kept(
    browser, live_server, rep, teammate, manager, work
):
    page = login(browser, live_server, manager, lands_on="/today/team/")
    first, second = work["late"]
    _open_alice(page, rep)
    page.check(f"#team-touch-{first.pk}")
    page.check(f"#team-touch-{second.pk}")
    # Done in another tab meanwhile.
    Touch.objects.filter(pk=second.pk).update(status=TouchStatus.DONE)
    page.select_option("#team-reassign-to", str(teammate.pk))
    page.click("#team-reassign-submit")
    page.wait_for_selector("#team-error")
    assert "no longer open" in page.inner_text("#team-error")
    assert page.is_checked(f"#team-touch-{first.pk}")
    assert Touch.objects.get(pk=first.pk).assigned_to_id == rep.pk


def test_fits_390_px_with_every_list_open(browser, live_server, rep, manager, work):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = login(browser, live_server, manager, page=context.new_page(), lands_on="/today/team/")
    page.eval_on_selector_all("details", "els => els.forEach((d) => { d.open = true; })")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()

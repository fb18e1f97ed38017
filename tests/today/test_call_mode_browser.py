"""Call mode in a real browser: three leads, an outcome on each, the next lead and its script load
in place, and the walk ends with "All calls done"."""

import datetime as dt

import pytest
from django.urls import reverse

from cadences.models import Outcome, TouchStatus
from leads.models import Appointment, LeadStatus
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_walks_three_calls_to_all_done(browser, live_server, rep, make_task, cadence):
    rep.timezone = "UTC"
    rep.save(update_fields=["timezone"])
    step = cadence.steps_by_name["day28"]
    step.body = "Hi {{ lead.first_name }}, it's {{ rep.first_name }} following up."
    step.save(update_fields=["body"])
    calls = [
        make_task(rep, step="instant", due=dt.timedelta(minutes=-2)),
        make_task(rep, due=dt.timedelta(hours=-3)),
        make_task(rep, due=dt.timedelta(hours=-1)),
    ]
    scripts = [
        f"Call {calls[0].lead.first_name} now",
        f"Hi {calls[1].lead.first_name}, it's Alice following up.",
        f"Hi {calls[2].lead.first_name}, it's Alice following up.",
    ]
    outcomes = [Outcome.CONNECTED, Outcome.VOICEMAIL, Outcome.NO_ANSWER]

    page = login(browser, live_server, rep)
    page.goto(live_server.url + reverse("today:call_mode"))
    page.evaluate("window.__noReload = 'still here'")
    for index, (touch, script, outcome) in enumerate(zip(calls, scripts, outcomes, strict=True)):
        card = page.locator(f"#call-card[data-touch='{touch.pk}']")
        card.wait_for()
        assert card.get_attribute("data-lead") == str(touch.lead.pk)
        text = card.inner_text()
        assert touch.lead.full_name in text
        assert script in text
        assert f"{3 - index} of 3 left" in text
        assert card.locator("a.call-phone").get_attribute("href") == f"tel:{touch.lead.phone}"
        card.locator(f"button[data-outcome={outcome.value}]").click()
        card.wait_for(state="detached")
        if index < 2:
            assert "logged for" in page.inner_text("#call-card .call-logged")
    page.wait_for_selector("#call-card .call-done")
    assert "All calls done for today" in page.inner_text("#call-card")
    assert page.evaluate("window.__noReload") == "still here"
    # The address kept the walk's state; the link goes back to Today.
    assert page.url.endswith("?done=3")
    page.click("#call-card a:has-text('Back to Today')")
    page.wait_for_url(f"{live_server.url}/today/")

    for touch, outcome in zip(calls, outcomes, strict=True):
        touch.refresh_from_db()
        assert (touch.status, touch.outcome) == (TouchStatus.DONE, outcome)


def test_skip_brings_the_lead_back_at_the_end(browser, live_server, rep, make_task):
    rep.timezone = "UTC"
    rep.save(update_fields=["timezone"])
    first = make_task(rep, due=dt.timedelta(hours=-2))
    second = make_task(rep, due=dt.timedelta(hours=-1))
    page = login(browser, live_server, rep)
    page.goto(live_server.url + reverse("today:call_mode"))
    page.click(f"#call-card[data-touch='{first.pk}'] a.call-skip")
    page.wait_for_selector(f"#call-card[data-touch='{second.pk}']")
    page.click("#call-card button[data-outcome=no_answer]")
    page.wait_for_selector(f"#call-card[data-touch='{first.pk}']")
    assert "1 of 2 left" in page.inner_text("#call-card")
    first.refresh_from_db()
    assert first.status == TouchStatus.SCHEDULED


def test_appointment_set_opens_the_dialog_in_the_card_and_booking_moves_on(browser, live_server, rep, make_task):
    rep.timezone = "UTC"
    rep.save(update_fields=["timezone"])
    booked = make_task(rep, due=dt.timedelta(hours=-2))
    nxt = make_task(rep, due=dt.timedelta(hours=-1))
    page = login(browser, live_server, rep)
    page.goto(live_server.url + reverse("today:call_mode"))
    page.click(f"#call-card[data-touch='{booked.pk}'] button[data-outcome=appointment]")
    dialog = page.locator("#call-card #call-dialog [role=dialog]")
    dialog.wait_for()
    assert booked.lead.full_name in dialog.inner_text()
    dialog.locator("[data-appointment-submit]").click()
    page.wait_for_selector(f"#call-card[data-touch='{nxt.pk}']")
    assert f"Appointment set logged for {booked.lead.full_name}" in page.inner_text("#call-card .call-logged")
    assert "1 of 2 left" in page.inner_text("#call-card")
    booked.lead.refresh_from_db()
    assert booked.lead.status == LeadStatus.APPOINTMENT
    assert Appointment.objects.filter(lead=booked.lead, status=Appointment.Status.SCHEDULED).count() == 1


def test_not_interested_offers_the_choices_and_keep_going_loads_the_next_call(browser, live_server, rep, make_task):
    rep.timezone = "UTC"
    rep.save(update_fields=["timezone"])
    no = make_task(rep, due=dt.timedelta(hours=-2))
    nxt = make_task(rep, due=dt.timedelta(hours=-1))
    page = login(browser, live_server, rep)
    page.goto(live_server.url + reverse("today:call_mode"))
    page.click(f"#call-card[data-touch='{no.pk}'] button[data-outcome=not_interested]")
    panel = page.locator("#call-card .call-decision")
    panel.wait_for()
    assert f"{no.lead.full_name} is not interested" in panel.inner_text()
    # Closing before five attempts is refused inside the card; nothing typed is lost.
    panel.locator("input[name=reason]").fill("Bought elsewhere")
    panel.locator("button[data-decision=close]").click()
    page.wait_for_selector("#call-card [role=alert]:has-text('attempt')")
    assert page.locator("#call-card input[name=reason]").input_value() == "Bought elsewhere"
    page.click("#call-card button[data-decision=keep]")
    page.wait_for_selector(f"#call-card[data-touch='{nxt.pk}']")
    assert f"Not interested logged for {no.lead.full_name}" in page.inner_text("#call-card .call-logged")
    no.lead.refresh_from_db()
    assert no.lead.status != LeadStatus.LOST and no.lead.objection_count == 1

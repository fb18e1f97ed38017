"""The lead list, a lead's page, the SMS outbox, notifications, the login, the intake form and the
404 page at 390 px with awkward data (a very long address, name and link): nothing scrolls sideways,
and the lead list cuts a long address with an ellipsis instead of breaking it mid-word.
tests/test_phone_width.py checks every main page on the demo data."""

import pytest
from django.urls import reverse

from accounts.services import notify
from messaging.models import Message
from tests.browser import login
from tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_EMAIL = "bartholomew.featherstonehaugh-wolfeschlegelsteinhausen@extraordinarily-long-company-name.example.com"
LONG_LINK = "https://example.com/" + "a-really-long-path-segment-" * 6


def test_pages_fit_a_390px_phone_with_long_data(browser, live_server, rep):
    lead = LeadFactory(
        owner=rep,
        first_name="Maximiliana-Josephine",
        last_name="Featherstonehaugh-Wolfeschlegelsteinhausen",
        email=LONG_EMAIL,
        phone="+14152498831",
        company="An Extraordinarily Long Company Name Incorporated",
    )
    Message.objects.create(
        direction="out", channel="sms", status="outbox", lead=lead, to=lead.phone, body=f"See {LONG_LINK}"
    )
    notify(user=rep, lead=lead, text=f"New lead from the website API: {lead.full_name}, assigned to you.")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + reverse("login"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    login(browser, live_server, rep, page=page)
    too_wide = {}
    for url in [
        reverse("leads:list"),
        reverse("leads:detail", args=[lead.pk]),
        reverse("leads:edit", args=[lead.pk]),
        reverse("leads:intake"),
        reverse("messaging:outbox"),
        reverse("notifications"),
        "/no-such-page/",
    ]:
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide[url] = width
    assert too_wide == {}

    # Wider, the address column shows: cut with an ellipsis, the whole address in its title.
    page.set_viewport_size({"width": 900, "height": 800})
    page.goto(live_server.url + reverse("leads:list"))
    email = page.locator(f"a[href='mailto:{LONG_EMAIL}']")
    assert email.get_attribute("title") == LONG_EMAIL
    assert email.evaluate("a => a.scrollWidth > a.clientWidth && getComputedStyle(a).textOverflow") == "ellipsis"
    assert email.evaluate("a => a.getBoundingClientRect().height") < 30  # one line, not broken up
    phone = page.locator("a[href='tel:+14152498831']")
    assert phone.inner_text() == "(415) 249-8831"
    page.goto(live_server.url + reverse("messaging:outbox"))
    assert page.locator("a[href='tel:+14152498831']").inner_text() == "(415) 249-8831"
    context.close()

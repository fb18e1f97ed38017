"""A rep writes from the lead page in a real browser and sees the message in the conversation; the
conversation picks up a reply by itself; a text shows its character and segment count. No CSP error."""

import pytest

from messaging.models import Message
from tests import factories
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lead(rep):
    return factories.LeadFactory(
        owner=rep, first_name="Dana", phone="+12125551234", email="dana@example.org", timezone="America/New_York"
    )


def _console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def test_rep_writes_an_email_from_the_lead_page_and_sees_it_and_the_reply(browser, live_server, rep, lead):
    page = login(browser, live_server, rep)
    errors = _console_errors(page)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.wait_for_selector("#conversation")
    page.click("[data-compose=email] >> nth=0")  # the header's Email button
    page.fill("input[name=subject]", "Your quote, {{ lead.first_name }}")
    page.fill("textarea[name=body]", "Hi {{ lead.first_name }}, the quote is attached.")
    page.click("#compose-send")

    page.wait_for_url(f"{live_server.url}/leads/{lead.pk}/#conversation")
    sent = page.wait_for_selector("#conversation [data-direction=out]")
    assert "Your quote, Dana" in sent.inner_text()
    assert "Hi Dana, the quote is attached." in sent.inner_text()
    assert Message.objects.filter(lead=lead, direction="out", channel="email").count() == 1

    # The lead answers: the conversation shows it within a poll (10 s), without a reload.
    Message.objects.create(
        direction="in", channel="email", lead=lead, to="replies@leadfollow.example", sender=lead.email,
        subject="Re: Your quote, Dana", body="Thanks, looks good!", status="received",
    )  # fmt: skip
    reply = page.wait_for_selector("#conversation [data-direction=in]", timeout=20_000)
    assert "Thanks, looks good!" in reply.inner_text()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_a_text_shows_its_character_and_segment_count(browser, live_server, rep, lead):
    page = login(browser, live_server, rep)
    page.goto(f"{live_server.url}/leads/{lead.pk}/write/sms/")
    page.fill("textarea[name=body]", "x" * 161)
    assert page.inner_text("#sms-count") == "161 characters · 2 SMS segments"
    page.fill("textarea[name=body]", "Hi ☺")
    assert page.inner_text("#sms-count").startswith("4 characters · 1 SMS segment (special characters")

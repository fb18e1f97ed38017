"""Headers and logs: a Content-Security-Policy on every page and nothing inline for it to refuse;
signed-in pages are `private, no-store`; dispatch logs no phone number and no email address."""

import datetime as dt
import logging
import logging.config
import re
import runpy

import pytest
import time_machine
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cadences.models import Touch, TouchStatus
from messaging import dispatch, transports
from messaging.services import rep_alert_new_lead
from messaging.tasks import dispatch_due, reconcile_stuck
from tests.factories import CadenceStepFactory, LeadFactory, TouchFactory

from .conftest import PRODUCT_PACKAGES
from .test_permission_matrix import EXPECTATIONS, LOGIN, OK

HTML_PAGES = sorted(name for name, case in EXPECTATIONS.items() if case.method == "get" and name != "logout")
SIGNED_IN_PAGES = [name for name in HTML_PAGES if EXPECTATIONS[name].expected["anonymous"] == LOGIN]
# Pages someone may open (not the API's catch-all 404).
OPEN_PAGES = [name for name in HTML_PAGES if OK in EXPECTATIONS[name].expected.values()]


def _opener(name) -> str:
    """The most privileged role that may open the page."""
    return next(role for role in ("admin", "manager", "rep", "anonymous") if EXPECTATIONS[name].expected[role] == OK)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)
EVENT_HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)=", re.I)


def _get(name, world, role):
    case = EXPECTATIONS[name]
    client = Client()
    if world.users[role] is not None:
        client.force_login(world.users[role])
    return client.get(reverse(name, kwargs=case.kwargs(world) if case.kwargs else {}))


# --- Content-Security-Policy ------------------------------------------------------------------


def test_the_policy_allows_only_our_own_files():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    for name in ("default-src", "script-src", "style-src"):
        assert directives[name] == ["'self'"], name
    assert directives["object-src"] == directives["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in directives.values() for value in values)


@pytest.mark.parametrize("name", OPEN_PAGES)
def test_every_page_carries_the_policy_and_nothing_inline(name, world, twilio_token):
    response = _get(name, world, _opener(name))
    assert response.status_code < 400
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    if response.get("Content-Type", "").startswith("text/html") and not getattr(response, "streaming", False):
        html = response.content.decode()
        assert not INLINE_SCRIPT.findall(html), INLINE_SCRIPT.findall(html)
        assert not INLINE_STYLE.findall(html)
        assert not EVENT_HANDLER.findall(html), EVENT_HANDLER.findall(html)


def test_no_template_or_page_script_needs_inline_code():
    root = settings.BASE_DIR / "templates"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.html")
        # Email bodies are not pages: mail clients want inline styles.
        if "email" not in path.parts
        and (INLINE_SCRIPT.search(text := path.read_text()) or INLINE_STYLE.search(text) or EVENT_HANDLER.search(text))
    ]
    assert not offenders, offenders
    for script in ("js/leadfollow.js", "js/today.js", "js/report-charts.js", "css/swagger-page.css"):
        assert finders.find(script), script


@pytest.fixture
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = "headers-test-token"


# --- Cache-Control ----------------------------------------------------------------------------


def _directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


@pytest.mark.parametrize("name", SIGNED_IN_PAGES)
def test_signed_in_pages_are_private_no_store(name, world, twilio_token):
    response = _get(name, world, _opener(name))
    assert {"private", "no-store"} <= _directives(response), (name, response.get("Cache-Control"))
    assert "public" not in _directives(response)


def test_the_unsubscribe_page_is_private_no_store_for_anyone(world):
    response = _get("unsubscribe", world, "anonymous")
    assert response.status_code == 200
    assert {"private", "no-store"} <= _directives(response)


def test_public_pages_and_static_files_are_left_to_their_own_caching(world, rep, settings):
    client = Client()
    assert "no-store" not in _directives(client.get(reverse("api:schema")))
    assert "no-store" not in _directives(client.get(reverse("password_reset_done")))
    # WhiteNoise answers from the finders, as under runserver (the tests have no collectstatic).
    settings.WHITENOISE_USE_FINDERS = settings.WHITENOISE_AUTOREFRESH = True
    client = Client()
    client.force_login(rep)
    static = client.get("/static/css/leadfollow.css")
    assert static.status_code == 200
    assert "no-store" not in _directives(static) and "private" not in _directives(static)


# --- Logs -------------------------------------------------------------------------------------

PRODUCT_LOGGERS = (*PRODUCT_PACKAGES, "celery", "django")
# The in-process fake SMTP server (aiosmtpd) logs the conversation: it is the test's, not the product's.
FAKES_LOGGERS = ("mail.log",)
NOON_NY = dt.datetime(2026, 6, 3, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def product_logging(caplog):
    """The LOGGING the product runs with, and every product logger at DEBUG, captured."""
    logging.config.dictConfig(settings.LOGGING)
    for name in PRODUCT_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _automated(lead, channel):
    step = CadenceStepFactory(
        channel=channel, automated=True, subject="Hello {{ lead.first_name }}", body="Hi {{ lead.first_name }}."
    )
    return TouchFactory(lead=lead, step=step, channel=channel, automated=True, assigned_to=None)


def test_the_twilio_library_logs_warnings_only():
    assert settings.LOGGING["loggers"]["twilio"]["level"] == "WARNING"


def test_dispatch_and_reconciliation_log_no_phone_number_or_email(
    fake_twilio, smtp_server, rep, settings, product_logging
):
    settings.DISPATCH_LEASE_SECONDS = 60
    lead = LeadFactory(
        owner=rep,
        first_name="Dana",
        timezone="America/New_York",
        phone="+12125551234",
        email="dana.private@example.org",
    )
    with time_machine.travel(NOON_NY, tick=True):
        sent_sms, sent_email = _automated(lead, "sms"), _automated(lead, "email")
        dispatch_due()
        # A worker that died after Twilio accepted a text: the reconciler looks the text up by number.
        stuck = _automated(lead, "sms")
        dispatch.touches_claim_due()
        message = dispatch.outgoing_message_for(Touch.objects.select_related("lead__owner", "step").get(pk=stuck.pk))
        Touch.objects.filter(pk=stuck.pk).update(send_started_at=timezone.now())
        transports.send(message, commit_point=lambda: True)
    with time_machine.travel(NOON_NY + dt.timedelta(minutes=5), tick=True):
        reconcile_stuck()
        dispatch_due()

    for touch in (sent_sms, sent_email, stuck):
        touch.refresh_from_db()
        assert touch.status == TouchStatus.SENT, (touch.channel, touch.failure_reason)
    assert len(fake_twilio.messages()) == 2 and len(smtp_server.messages()) == 1
    personal = ("2125551234", "dana.private", "dana.private%40example.org")
    leaked = [
        f"{record.name}: {text}"
        for record in product_logging.records
        if record.name not in FAKES_LOGGERS
        and any(value in (text := record.getMessage() + (record.exc_text or "")) for value in personal)
    ]
    assert not leaked, leaked


def test_a_failed_new_lead_alert_logs_the_rep_by_id_not_their_address(smtp_server, rep, product_logging):
    rep.email, rep.phone = "alice.private@example.com", ""
    rep.save()
    smtp_server.reject_recipient(rep.email)
    lead = LeadFactory(owner=rep, first_name="Dana", phone="+12125551234", email="dana.private@example.org")
    assert rep_alert_new_lead(lead_id=lead.pk)["email"] is False
    records = [r for r in product_logging.records if r.name == "messaging.services"]
    assert records and f"rep {rep.pk}" in records[0].getMessage()
    personal = ("alice.private", "2125551234", "dana.private")
    leaked = [
        r.getMessage() + (r.exc_text or "")
        for r in product_logging.records
        if r.name not in FAKES_LOGGERS and any(v in r.getMessage() + (r.exc_text or "") for v in personal)
    ]
    assert not leaked, leaked


def test_the_access_log_keeps_no_query_string_or_referrer():
    config = runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))
    log_format = config["access_log_format"]
    assert "%(U)s" in log_format  # the path
    for atom in ("%(r)s", "%(q)s", "%(f)s", "%({"):
        assert atom not in log_format, atom

"""Mailgun's webhooks through django-anymail, posted as Mailgun posts them and signed as Mailgun signs
them (HMAC-SHA256 of timestamp + token with the webhook signing key): tracking (bounces, complaints)
and inbound (replies, through the raw-MIME route and the parsed one)."""

import email
import email.policy
import hashlib
import hmac
import json
import time
import types

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cadences.models import TouchStatus
from messaging.models import InboundEmail, OptOut, Suppression
from messaging.reply_address import sender_domain
from reactions import inbound_email_webhook
from tests.factories import CadenceStepFactory, LeadFactory, TouchFactory

SIGNING_KEY = "key-0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def signing_key(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": []}


def mailgun_signature(key=SIGNING_KEY, timestamp=None, token="a1b2c3" * 8 + "d4"):
    """Mailgun's signature block: hex HMAC-SHA256 of timestamp followed by token, keyed by the signing key."""
    timestamp = str(timestamp or int(time.time()))
    digest = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": digest}


@pytest.fixture
def lead(rep):
    return LeadFactory(owner=rep, email="Pat@Example.org", first_name="Pat")


def email_touch(lead, **kw):
    step = CadenceStepFactory(channel="email", automated=True, subject="Hi", body="Hello {{ lead.first_name }}")
    kw.setdefault("due_at", timezone.now() + timezone.timedelta(days=2))
    return TouchFactory(lead=lead, step=step, channel="email", automated=True, assigned_to=None, **kw)


# --- Tracking (JSON webhooks, Mailgun's "event-data" shape) -----------------------------------------------


def tracking_event(event, recipient, **extra):
    data = {
        "id": "G9Bn5sl1TC6nu79C8C0bwg",
        "timestamp": time.time(),
        "log-level": "error" if event == "failed" else "warn",
        "event": event,
        "recipient": recipient,
        "recipient-domain": recipient.rsplit("@", 1)[-1],
        "envelope": {"sender": "sales@leadfollow.example", "transport": "smtp", "targets": recipient},
        "message": {
            "headers": {
                "to": recipient,
                "message-id": f"touch-41@{sender_domain()}",
                "from": "LeadFollow <sales@leadfollow.example>",
                "subject": "Hi",
            },
            "attachments": [],
            "size": 1386,
        },
        "flags": {"is-routed": False, "is-authenticated": True, "is-system-test": False, "is-test-mode": False},
        "tags": [],
        "campaigns": [],
        "user-variables": {},
        **extra,
    }
    return data


def permanent_bounce(recipient):
    return tracking_event(
        "failed",
        recipient,
        severity="permanent",
        reason="bounce",
        **{
            "delivery-status": {
                "attempt-no": 1,
                "code": 550,
                "message": "5.1.1 The email account that you tried to reach does not exist.",
                "description": "550 5.1.1 mailbox unavailable",
                "session-seconds": 0.4,
                "mx-host": "mx.example.org",
            }
        },
    )


def post_tracking(event_data, signature=None):
    payload = {"signature": signature or mailgun_signature(), "event-data": event_data}
    return Client(enforce_csrf_checks=True).post(
        reverse("webhooks:mailgun_tracking"), json.dumps(payload), content_type="application/json"
    )


@pytest.mark.django_db
def test_permanent_failure_marks_the_address_invalid_and_skips_its_emails(lead):
    scheduled = email_touch(lead)
    response = post_tracking(permanent_bounce("pat@example.org"))
    assert response.status_code == 200
    lead.refresh_from_db(), scheduled.refresh_from_db()
    assert lead.email_invalid and not lead.email_opt_out
    assert scheduled.status == TouchStatus.SKIPPED
    assert lead.events.filter(text__contains="550 5.1.1 mailbox unavailable").exists()
    assert not Suppression.objects.exists()


@pytest.mark.django_db
def test_temporary_failure_changes_nothing(lead):
    scheduled = email_touch(lead)
    event = permanent_bounce("pat@example.org") | {"severity": "temporary", "reason": "generic"}
    assert post_tracking(event).status_code == 200
    lead.refresh_from_db(), scheduled.refresh_from_db()
    assert not lead.email_invalid and scheduled.status == TouchStatus.SCHEDULED


@pytest.mark.django_db
def test_complaint_opts_out_and_suppresses_the_address(lead):
    scheduled = email_touch(lead)
    assert post_tracking(tracking_event("complained", "PAT@example.org")).status_code == 200
    lead.refresh_from_db(), scheduled.refresh_from_db()
    assert lead.email_opt_out and lead.email_invalid
    assert OptOut.objects.get(lead=lead).source == "spam complaint"
    assert Suppression.objects.get(channel="email", address="pat@example.org").opted_out
    assert scheduled.status == TouchStatus.SKIPPED


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    [
        mailgun_signature(key="key-someone-else"),
        {**mailgun_signature(), "token": "another-token" * 4},
        {**mailgun_signature(), "signature": ""},
    ],
    ids=["wrong key", "token changed", "empty"],
)
def test_tracking_with_a_bad_signature_is_refused_and_changes_nothing(lead, signature):
    scheduled = email_touch(lead)
    response = post_tracking(tracking_event("complained", "pat@example.org"), signature=signature)
    assert response.status_code == 400
    lead.refresh_from_db(), scheduled.refresh_from_db()
    assert not lead.email_opt_out and not lead.email_invalid
    assert scheduled.status == TouchStatus.SCHEDULED
    assert not Suppression.objects.exists() and not OptOut.objects.exists()


@pytest.mark.django_db
def test_without_a_signing_key_configured_every_call_is_refused(lead, settings):
    """Unset, the key is random (settings.py): a call signed with an empty key (as an attacker could
    compute) or any guess is refused."""
    from leadfollow import settings as product_settings

    settings.ANYMAIL = product_settings.ANYMAIL
    assert product_settings.ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"]
    response = post_tracking(tracking_event("complained", "pat@example.org"), signature=mailgun_signature(key=""))
    assert response.status_code == 400
    lead.refresh_from_db()
    assert not lead.email_opt_out


@pytest.mark.django_db
def test_basic_auth_when_a_webhook_secret_is_set(lead, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": ["mailgun:s3cret"]}
    event = tracking_event("complained", "pat@example.org")
    assert post_tracking(event).status_code == 400  # signed, but without the basic auth
    lead.refresh_from_db()
    assert not lead.email_opt_out
    payload = json.dumps({"signature": mailgun_signature(), "event-data": event})
    response = Client().post(
        reverse("webhooks:mailgun_tracking"),
        payload,
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic bWFpbGd1bjpzM2NyZXQ=",  # mailgun:s3cret
    )
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.email_opt_out


# --- Inbound (Mailgun route forward(): multipart form) ----------------------------------------------------


def reply_mime(touch_id, *, message_id="<CAF=reply-1@mail.example.org>"):
    our_id = f"<touch-{touch_id}@{sender_domain()}>"
    return (
        "Received: from mail.example.org by mxa.mailgun.org with ESMTP; Wed, 02 Dec 2026 06:40:00 +0000\r\n"
        "From: Pat Lead <pat@example.org>\r\n"
        "To: replies+abc@leadfollow.example\r\n"
        "Subject: Re: Hi\r\n"
        "Date: Wed, 02 Dec 2026 06:39:58 +0000\r\n"
        f"Message-ID: {message_id}\r\n"
        f"In-Reply-To: {our_id}\r\n"
        f"References: <thread-start@leadfollow.example> {our_id}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Yes, call me tomorrow \u2014 after 10.\r\n"
        "\r\n"
        "On Tue, Dec 1, 2026 LeadFollow <sales@leadfollow.example> wrote:\r\n"
        "> Hello Pat\r\n"
    )


def raw_mime_post(touch_id, signature=None, **kw):
    """The fields Mailgun posts to a route URL ending in "mime"."""
    return {
        "recipient": "replies+abc@leadfollow.example",
        "sender": "pat@example.org",
        "from": "Pat Lead <pat@example.org>",
        "subject": "Re: Hi",
        "body-mime": reply_mime(touch_id, **kw),
        **(signature or mailgun_signature()),
    }


def parsed_post(touch_id, signature=None):
    """The fields Mailgun posts to any other route URL ("fully parsed")."""
    our_id = f"<touch-{touch_id}@{sender_domain()}>"
    headers = [
        ["Received", "from mail.example.org by mxa.mailgun.org with ESMTP"],
        ["From", "Pat Lead <pat@example.org>"],
        ["To", "replies+abc@leadfollow.example"],
        ["Subject", "Re: Hi"],
        ["Date", "Wed, 02 Dec 2026 06:39:58 +0000"],
        ["Message-Id", "<CAF=reply-2@mail.example.org>"],
        ["In-Reply-To", our_id],
        ["References", f"<thread-start@leadfollow.example> {our_id}"],
        ["Mime-Version", "1.0"],
        ["Content-Type", 'text/plain; charset="utf-8"'],
        ["X-Mailgun-Sflag", "No"],
    ]
    return {
        "recipient": "replies+abc@leadfollow.example",
        "sender": "pat@example.org",
        "from": "Pat Lead <pat@example.org>",
        "subject": "Re: Hi",
        "body-plain": "Yes, call me tomorrow.\r\n\r\nOn Tue, Dec 1, 2026 LeadFollow wrote:\r\n> Hello Pat\r\n",
        "stripped-text": "Yes, call me tomorrow.",
        "stripped-signature": "",
        "message-headers": json.dumps(headers),
        "content-id-map": "{}",
        **(signature or mailgun_signature()),
    }


@pytest.fixture
def received(monkeypatch):
    """The calls that reach the inbound email entry point, which is stood in for here."""
    calls = []

    def inbound_email_receive(raw: bytes, *, via: str):
        calls.append({"raw": raw, "via": via})
        return types.SimpleNamespace(inbound=None, duplicate=False)

    monkeypatch.setattr(inbound_email_webhook, "inbound_email_receive", inbound_email_receive)
    return calls


@pytest.mark.django_db
def test_raw_mime_route_hands_the_message_as_posted_to_the_entry_point(lead, received):
    touch = email_touch(lead)
    posted = raw_mime_post(touch.pk)
    response = Client(enforce_csrf_checks=True).post(reverse("webhooks:mailgun_inbound_mime"), posted)
    assert response.status_code == 200
    [call] = received
    assert call["via"] == "webhook:mailgun"
    assert call["raw"] == posted["body-mime"].encode("utf-8")
    message = email.message_from_bytes(call["raw"], policy=email.policy.default)
    assert message["In-Reply-To"] == f"<touch-{touch.pk}@leadfollow.example>"
    assert message["Message-ID"] == "<CAF=reply-1@mail.example.org>"
    assert f"<touch-{touch.pk}@leadfollow.example>" in message["References"]
    assert "\u2014 after 10." in message.get_content()


@pytest.mark.django_db
def test_parsed_route_keeps_the_threading_headers(lead, received):
    touch = email_touch(lead)
    response = Client().post(reverse("webhooks:mailgun_inbound"), parsed_post(touch.pk))
    assert response.status_code == 200
    [call] = received
    assert call["via"] == "webhook:mailgun"
    message = email.message_from_bytes(call["raw"], policy=email.policy.default)
    assert message["In-Reply-To"] == f"<touch-{touch.pk}@leadfollow.example>"
    assert message["Message-ID"] == "<CAF=reply-2@mail.example.org>"
    assert message["References"] == f"<thread-start@leadfollow.example> <touch-{touch.pk}@leadfollow.example>"
    assert message["From"] == "Pat Lead <pat@example.org>"
    assert "Yes, call me tomorrow." in message.get_body(("plain",)).get_content()


@pytest.mark.django_db
@pytest.mark.parametrize("route", ["webhooks:mailgun_inbound_mime", "webhooks:mailgun_inbound"])
def test_inbound_with_a_bad_signature_is_refused_and_reaches_nothing(lead, received, route):
    touch = email_touch(lead)
    data = (raw_mime_post if route.endswith("mime") else parsed_post)(
        touch.pk, signature=mailgun_signature(key="key-someone-else")
    )
    response = Client().post(reverse(route), data)
    assert response.status_code == 400
    assert received == []


@pytest.mark.django_db
def test_raw_mime_larger_than_the_upload_limit_is_refused_for_mailgun_to_retry(lead, received, settings):
    """Django caps a form field at DATA_UPLOAD_MAX_MEMORY_SIZE, and body-mime is one field: a bigger
    message is answered 400 (Mailgun retries for 8 hours, then drops it). README says which route to use."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000
    posted = raw_mime_post(email_touch(lead).pk)
    posted["body-mime"] += "> " + "quoted history " * 2_000 + "\r\n"
    assert Client().post(reverse("webhooks:mailgun_inbound_mime"), posted).status_code == 400
    assert received == []


@pytest.mark.django_db
def test_parsed_route_takes_attachments_larger_than_the_upload_limit(lead, received, settings):
    """Parsed, the attachments come as files, which the limit does not cap: the reply arrives with them."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000
    touch = email_touch(lead)
    quote = SimpleUploadedFile("signed-quote.pdf", b"%PDF-1.7 " + b"0" * 50_000, content_type="application/pdf")
    posted = parsed_post(touch.pk) | {"attachment-count": "1", "attachment-1": quote}
    assert Client().post(reverse("webhooks:mailgun_inbound"), posted).status_code == 200
    [call] = received
    message = email.message_from_bytes(call["raw"], policy=email.policy.default)
    assert message["In-Reply-To"] == f"<touch-{touch.pk}@leadfollow.example>"
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "signed-quote.pdf" and len(attachment.get_content()) == 50_009


# --- Inbound, end to end: the entry point itself (reactions.inbound_email, engineer A) ---------------------


@pytest.mark.django_db
def test_reply_through_the_webhook_is_stored_once_for_its_lead(lead):
    touch = email_touch(lead)
    url = reverse("webhooks:mailgun_inbound_mime")
    assert Client().post(url, raw_mime_post(touch.pk)).status_code == 200
    # Mailgun posts again when it did not see our 200: the same message, a new signature.
    again = raw_mime_post(touch.pk, signature=mailgun_signature(token="z9" * 25))
    assert Client().post(url, again).status_code == 200
    [inbound] = InboundEmail.objects.all()
    assert inbound.message_id.strip("<>") == "CAF=reply-1@mail.example.org"
    assert inbound.via == "webhook:mailgun"
    assert inbound.lead == lead and inbound.kind == InboundEmail.Kind.REPLY
    assert inbound.state == InboundEmail.State.MATCHED and inbound.matched_by == "in_reply_to"
    assert f"In-Reply-To: <touch-{touch.pk}@leadfollow.example>".encode() in bytes(inbound.raw)


@pytest.mark.django_db
def test_reply_through_the_parsed_route_is_matched_by_its_in_reply_to(lead):
    touch = email_touch(lead)
    assert Client().post(reverse("webhooks:mailgun_inbound"), parsed_post(touch.pk)).status_code == 200
    [inbound] = InboundEmail.objects.all()
    assert inbound.via == "webhook:mailgun" and inbound.lead == lead
    assert inbound.state == InboundEmail.State.MATCHED and inbound.kind == InboundEmail.Kind.REPLY
    # By the threading header anymail rebuilt from Mailgun's message-headers (the sender would match too).
    assert inbound.matched_by == "in_reply_to"


@pytest.mark.django_db
def test_inbound_with_a_bad_signature_stores_nothing(lead):
    touch = email_touch(lead)
    data = raw_mime_post(touch.pk, signature=mailgun_signature(key="key-someone-else"))
    assert Client().post(reverse("webhooks:mailgun_inbound_mime"), data).status_code == 400
    assert not InboundEmail.objects.exists()

"""CSRF: every URL refuses a POST without a token, except the documented exempt ones.

Exempt on purpose (each authenticates the request another way):
- POST /api/leads/: a lead source's API key (no cookies are read);
- /webhooks/twilio/sms/ and /status/: the X-Twilio-Signature of the request;
- /webhooks/anymail/mailgun/…: Mailgun's HMAC signature of the request (django-anymail checks it);
- /unsubscribe/<token>/: the signed token; RFC 8058 one-click unsubscribe posts come from mail
  providers, which have no CSRF token by design.
"""

import pytest
from django.test import Client
from django.urls import reverse

from .test_permission_matrix import EXPECTATIONS

MAILGUN = {"webhooks:mailgun_tracking", "webhooks:mailgun_inbound", "webhooks:mailgun_inbound_mime"}
CSRF_EXEMPT = {"api:lead_create", "webhooks:twilio_sms", "webhooks:twilio_status", "unsubscribe", *MAILGUN}
# DRF views skip Django's CSRF check (DRF applies it only to session-authenticated requests);
# these two accept no POST at all.
READ_ONLY_API = {"api:schema", "api:docs"}
# The API's catch-all answers a JSON 404 to every method: there is nothing behind it to protect.
API_NOT_FOUND = "api:not_found"
GUARDED = sorted(set(EXPECTATIONS) - CSRF_EXEMPT - READ_ONLY_API - {API_NOT_FOUND})


def _url(name, world):
    case = EXPECTATIONS[name]
    return reverse(name, kwargs=case.kwargs(world) if case.kwargs else {})


@pytest.mark.parametrize("name", GUARDED)
def test_a_post_without_a_csrf_token_is_refused(name, world, admin_user):
    data = EXPECTATIONS[name].data(world)
    for user in (admin_user, None):
        client = Client(enforce_csrf_checks=True)
        if user is not None:
            client.force_login(user)
        response = client.post(_url(name, world), data)
        assert response.status_code == 403, (name, user)
        assert b"CSRF" in response.content, (name, user)


@pytest.mark.parametrize("name", sorted(READ_ONLY_API))
def test_read_only_api_views_take_no_post(name, world, admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(_url(name, world), {}).status_code == 405


def test_with_the_token_the_same_form_works(world, rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    page = client.get(f"/leads/{world.lead.pk}/")
    token = page.cookies["csrftoken"].value
    response = client.post(f"/leads/{world.lead.pk}/notes/", {"text": "With a token", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_the_exempt_endpoints_are_exempt_and_guarded_otherwise(world, settings):
    settings.TWILIO_AUTH_TOKEN = "csrf-test-token"
    client = Client(enforce_csrf_checks=True)
    assert client.post(_url("api:lead_create", world), {"first_name": "X"}).status_code == 401
    for name in ("webhooks:twilio_sms", "webhooks:twilio_status"):
        response = client.post(_url(name, world), {"Body": "STOP"})
        assert response.status_code == 403
        assert b"CSRF" not in response.content  # refused for its signature, not for CSRF
    for name in sorted(MAILGUN):
        response = client.post(_url(name, world), {"timestamp": "1", "token": "x", "signature": "bad"})
        assert response.status_code == 400  # anymail: a bad Mailgun signature
        assert b"CSRF" not in response.content
    # One-click unsubscribe (RFC 8058) works without a token.
    response = client.post(_url("unsubscribe", world), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    world.lead.refresh_from_db()
    assert world.lead.email_opt_out is True


def test_a_post_to_an_unknown_api_path_is_a_json_404(world, admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post("/api/no-such-thing/", {"first_name": "X"})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")

"""API keys are stored hashed and can be revoked; pages carry the security headers."""

import hashlib

import pytest

from leads.models import Lead, LeadSource
from leads.services.api_keys import lead_source_issue_api_key, lead_source_revoke_api_key

API = "/api/leads/"


def _post(client, key, phone="+14155550188"):
    return client.post(
        API,
        {"first_name": "Keyed", "phone": phone},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )


def test_api_keys_are_stored_only_as_a_hash(web_source):
    raw = lead_source_issue_api_key(source=web_source)
    stored = {name: str(value) for name, value in LeadSource.objects.filter(pk=web_source.pk).values().get().items()}
    assert all(raw not in value for value in stored.values()), stored
    secret = raw.split(".", 1)[1]
    assert all(secret not in value for value in stored.values())
    assert stored["api_key_hash"] == hashlib.sha256(raw.encode()).hexdigest()


def test_a_revoked_key_is_refused_and_a_reissued_key_replaces_the_old(client, web_source):
    key = lead_source_issue_api_key(source=web_source)
    assert _post(client, key).status_code == 201
    lead_source_revoke_api_key(source=web_source)
    before = Lead.objects.count()
    assert _post(client, key, phone="+14155550189").status_code == 401
    assert Lead.objects.count() == before
    new_key = lead_source_issue_api_key(source=web_source)
    assert _post(client, key, phone="+14155550189").status_code == 401
    assert _post(client, new_key, phone="+14155550189").status_code == 201


@pytest.mark.parametrize("key", ["", "lf_", "lf_nope.nope", "Bearer x", "lf_" + "a" * 5000, "lf_\xe9t\xe9.x"])
def test_malformed_keys_are_401(client, web_source, key):
    lead_source_issue_api_key(source=web_source)
    assert _post(client, key).status_code == 401


@pytest.mark.parametrize("who", [None, "rep"])
def test_pages_carry_the_security_headers(client_for, rep, who):
    client = client_for(rep if who else None)
    for url in ("/accounts/login/", "/leads/" if who else "/accounts/password_reset/"):
        response = client.get(url)
        assert response.status_code == 200
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_api_responses_carry_the_security_headers(client, db):
    response = client.post(API, {}, content_type="application/json")
    assert response.status_code == 401
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"

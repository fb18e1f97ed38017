import json
import re
import threading

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from rest_framework.test import APIClient

from leads.models import IdempotencyRecord, Lead, LeadEvent
from leads.services.api_keys import lead_source_issue_api_key, lead_source_revoke_api_key
from tests.factories import LeadSourceFactory

URL = "/api/leads/"
GOOD = {"first_name": "Dana", "last_name": "Scully", "phone": "(415) 555-0123", "interest": "Pricing"}


def post(client, data, **extra):
    return client.post(URL, data, format="json", **extra)


def inquiries(lead):
    return LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.INQUIRY).count()


# --- Creating leads -----------------------------------------------------------------------------


def test_new_lead_is_created_with_round_robin_owner_and_e164_phone(api_client, web_source, rep, teammate):
    first = post(api_client, GOOD)
    second = post(api_client, {"first_name": "Fox", "email": "fox@example.org"})

    assert first.status_code == 201, first.content
    body = first.json()
    assert body["duplicate"] is False and body["status"] == "new"
    lead = Lead.objects.get(pk=body["id"])
    assert lead.phone == "+14155550123"
    assert lead.source == web_source and lead.team == web_source.team
    assert lead.owner == rep and body["owner"] == str(rep)
    assert lead.timezone == body["timezone"] == "America/Los_Angeles"
    assert inquiries(lead) == 1
    # Round-robin: the next lead goes to the next rep of the source's team.
    assert second.status_code == 201
    assert Lead.objects.get(pk=second.json()["id"]).owner == teammate


def test_form_encoded_body_is_accepted(api_client, rep):
    response = api_client.post(URL, {"first_name": "Walter", "phone": "+1 415 555 0124"})
    assert response.status_code == 201, response.content
    assert Lead.objects.get().phone == "+14155550124"


def test_raw_urlencoded_body_from_a_plain_html_form(api_key, rep):
    client = APIClient()
    response = client.generic(
        "POST",
        URL,
        "first_name=Walter&phone=%2B1+415+555+0124&utm_campaign=spring",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Api-Key {api_key}",
    )
    assert response.status_code == 201, response.content


def test_unknown_fields_are_ignored(api_client, rep):
    response = post(api_client, {**GOOD, "utm_source": "google", "status": "won", "owner": 999})
    assert response.status_code == 201, response.content
    assert Lead.objects.get().status == "new"


def test_optional_fields_are_stored(api_client, rep):
    response = post(
        api_client,
        {
            **GOOD,
            "email": "dana@example.org",
            "company": "FBI",
            "how_heard": "Podcast",
            "timezone": "America/Chicago",
            "twitter_handle": "@dana",
            "linkedin_url": "https://www.linkedin.com/in/dana",
        },
    )
    assert response.status_code == 201, response.content
    lead = Lead.objects.get()
    assert (lead.email, lead.company, lead.how_heard, lead.timezone, lead.twitter_handle) == (
        "dana@example.org",
        "FBI",
        "Podcast",
        "America/Chicago",
        "dana",
    )


# --- Invalid input ------------------------------------------------------------------------------


def test_bad_phone_is_400_with_field_error_and_nothing_saved(api_client, rep):
    response = post(api_client, {**GOOD, "phone": "+1 555 0000"})
    assert response.status_code == 400
    assert list(response.json()) == ["phone"]
    assert "phone number" in response.json()["phone"][0]
    assert Lead.objects.count() == 0 and LeadEvent.objects.count() == 0


@pytest.mark.parametrize("data", [{"phone": "+14155550123"}, {"first_name": "  ", "phone": "+14155550123"}])
def test_missing_first_name_is_400(api_client, data):
    response = post(api_client, data)
    assert response.status_code == 400
    assert "first_name" in response.json()
    assert Lead.objects.count() == 0


def test_several_bad_fields_are_all_reported(api_client):
    response = post(
        api_client, {"first_name": "x" * 101, "email": "not-an-email", "timezone": "Mars/Olympus", "phone": "12"}
    )
    assert response.status_code == 400
    assert {"first_name", "email", "timezone", "phone"} <= set(response.json())
    assert Lead.objects.count() == 0


def test_no_phone_and_no_email_is_400(api_client):
    response = post(api_client, {"first_name": "Dana"})
    assert response.status_code == 400 and "phone" in response.json()


@pytest.mark.parametrize(
    "body",
    ['{"first_name": "Dana", ', "[1, 2]", '"just a string"', '{"first_name": ["a", "b"], "phone": "+14155550123"}'],
)
def test_malformed_json_is_400(api_key, body):
    client = APIClient()
    response = client.generic(
        "POST", URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {api_key}"
    )
    assert response.status_code == 400
    assert Lead.objects.count() == 0


def test_oversized_json_body_is_413_not_500(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    response = post(api_client, {**GOOD, "interest": "x" * 5000})
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert Lead.objects.count() == 0


def test_oversized_form_body_is_413_not_500(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    response = api_client.post(URL, {**GOOD, "interest": "x" * 5000})
    assert response.status_code == 413
    assert Lead.objects.count() == 0


def test_get_is_not_allowed(api_client):
    assert api_client.get(URL).status_code == 405


# --- Duplicates -------------------------------------------------------------------------------


def test_same_phone_again_lands_on_the_existing_lead(api_client, rep):
    first = post(api_client, GOOD)
    again = post(api_client, {"first_name": "Dana", "phone": "+1 415-555-0123", "interest": "Still interested"})

    assert first.status_code == 201
    assert again.status_code == 200, again.content
    assert again.json()["duplicate"] is True and again.json()["id"] == first.json()["id"]
    assert Lead.objects.count() == 1
    assert inquiries(Lead.objects.get()) == 2


# --- Authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Api-Key lf_nothere.wrongsecret",
        "Api-Key",
        "Api-Key a b",
        "Bearer something",
        "Api-Key not-even-the-format",
    ],
)
def test_missing_or_wrong_key_is_401(web_source, api_key, header):
    client = APIClient()
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(URL, GOOD, format="json", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert "detail" in response.json()
    assert Lead.objects.count() == 0


def test_right_prefix_wrong_secret_is_401(web_source, api_key):
    prefix = api_key.split(".")[0]
    client = APIClient()
    response = client.post(URL, GOOD, format="json", HTTP_AUTHORIZATION=f"Api-Key {prefix}.forged")
    assert response.status_code == 401


def test_revoked_key_is_401(api_client, web_source):
    lead_source_revoke_api_key(source=web_source)
    assert post(api_client, GOOD).status_code == 401
    assert Lead.objects.count() == 0


def test_inactive_source_is_401(api_client, web_source):
    web_source.active = False
    web_source.save()
    assert post(api_client, GOOD).status_code == 401


def test_reissued_key_replaces_the_old_one(api_client, web_source):
    new_key = lead_source_issue_api_key(source=web_source)
    assert post(api_client, GOOD).status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {new_key}")
    assert post(client, GOOD).status_code == 201


def test_logged_in_web_user_without_key_is_401(client_for, admin_user):
    client = client_for(admin_user)
    response = client.post(URL, GOOD, content_type="application/json")
    assert response.status_code == 401


# --- Idempotency ------------------------------------------------------------------------------


def test_idempotent_repeat_replays_the_first_response(api_client, rep):
    first = post(api_client, GOOD, HTTP_IDEMPOTENCY_KEY="order-1")
    # Same body, other key order and spacing: the same request.
    repeat = api_client.generic(
        "POST",
        URL,
        json.dumps(dict(reversed(list(GOOD.items()))), indent=2),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="order-1",
    )

    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    assert repeat.status_code == 201  # the stored status, not the 200 a new intake would give
    assert repeat["Idempotent-Replayed"] == "true"
    assert repeat.json() == first.json()
    lead = Lead.objects.get()
    assert inquiries(lead) == 1  # no second intake
    assert IdempotencyRecord.objects.get().status_code == 201


def test_idempotency_key_with_another_body_is_422(api_client, rep):
    post(api_client, GOOD, HTTP_IDEMPOTENCY_KEY="order-2")
    response = post(api_client, {**GOOD, "interest": "Something else"}, HTTP_IDEMPOTENCY_KEY="order-2")
    assert response.status_code == 422
    assert "different request body" in response.json()["detail"]
    assert inquiries(Lead.objects.get()) == 1


def test_a_rejected_request_does_not_burn_its_key(api_client, rep):
    bad = post(api_client, {**GOOD, "phone": "+1 555 0000"}, HTTP_IDEMPOTENCY_KEY="order-3")
    fixed = post(api_client, GOOD, HTTP_IDEMPOTENCY_KEY="order-3")
    assert bad.status_code == 400
    assert fixed.status_code == 201
    assert IdempotencyRecord.objects.count() == 1


def test_idempotency_keys_are_per_source(api_client, north, rep):
    other = LeadSourceFactory(name="Partner", team=north)
    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {lead_source_issue_api_key(source=other)}")
    post(api_client, GOOD, HTTP_IDEMPOTENCY_KEY="same")
    response = post(other_client, GOOD, HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 200 and "Idempotent-Replayed" not in response
    assert response.json()["duplicate"] is True


def test_too_long_idempotency_key_is_400(api_client):
    response = post(api_client, GOOD, HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert Lead.objects.count() == 0


def test_idempotency_with_form_bodies(api_client, rep):
    first = api_client.post(URL, GOOD, HTTP_IDEMPOTENCY_KEY="form-1")
    repeat = api_client.post(URL, GOOD, HTTP_IDEMPOTENCY_KEY="form-1")
    changed = api_client.post(URL, {**GOOD, "first_name": "Other"}, HTTP_IDEMPOTENCY_KEY="form-1")
    assert (first.status_code, repeat.status_code, changed.status_code) == (201, 201, 422)
    assert repeat["Idempotent-Replayed"] == "true"


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_make_one_intake(postgres, north):
    from tests.factories import UserFactory

    UserFactory(username="racer", role="rep", team=north)
    source = LeadSourceFactory(name="Race", team=north)
    key = lead_source_issue_api_key(source=source)
    barrier = threading.Barrier(4)
    results = []

    def worker():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        barrier.wait()
        try:
            response = post(client, GOOD, HTTP_IDEMPOTENCY_KEY="race-1")
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(results) == 4
    assert {code for code, _ in results} == {201}
    assert len({body["id"] for _, body in results}) == 1
    assert Lead.objects.count() == 1
    assert inquiries(Lead.objects.get()) == 1
    assert IdempotencyRecord.objects.count() == 1


# --- Throttling -------------------------------------------------------------------------------


def test_throttled_per_source_key(api_client, settings, north, rep):
    settings.API_THROTTLE_BURST = 2
    settings.API_THROTTLE_RATE = 2 / 60
    other = LeadSourceFactory(name="Partner", team=north)
    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {lead_source_issue_api_key(source=other)}")

    codes = [post(api_client, {"first_name": f"L{i}", "email": f"l{i}@example.org"}).status_code for i in range(3)]
    limited = post(api_client, GOOD)

    assert codes == [201, 201, 429]
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert Lead.objects.count() == 2
    # Another source's key has its own allowance.
    assert post(other_client, GOOD).status_code == 201


def test_default_rate_allows_normal_traffic(api_client, rep):
    codes = {post(api_client, {"first_name": f"L{i}", "email": f"l{i}@example.org"}).status_code for i in range(5)}
    assert codes == {201}


# --- Schema and docs ------------------------------------------------------------------------


def test_schema_is_openapi_and_documents_the_endpoint_and_key(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    operation = schema["paths"]["/api/leads/"]["post"]
    assert operation["security"] == [{"ApiKey": []}]
    assert {"201", "200", "400", "401", "422", "429"} <= set(operation["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "The lead source's API key, sent as `Authorization: Api-Key <key>`.",
    }
    fields = schema["components"]["schemas"]["LeadIntake"]
    assert fields["required"] == ["first_name"]
    assert {"phone", "email", "how_heard", "interest", "timezone", "linkedin_url"} <= set(fields["properties"])


def test_schema_yaml_default(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200 and b"/api/leads/" in response.content


def test_docs_page_uses_only_local_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the docs page loads Swagger UI"
    # Swagger UI's start-up script is served by the docs view itself (no inline script under the CSP).
    start_up = "/api/docs/?script="
    assert start_up in assets
    script = client.get(start_up)
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "https://" not in script.content.decode()
    for url in assets:
        if url == start_up:
            continue
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), f"{url} is not a shipped static file"
    assert "cdn" not in html.lower() and "https://" not in html

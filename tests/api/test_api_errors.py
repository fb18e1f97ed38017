"""Every answer under /api/ is JSON, errors included, and no body a client can send is a 500."""

import logging

import pytest
from django.db import connection
from rest_framework.test import APIClient

from leads.models import Lead

URL = "/api/leads/"
GOOD = {"first_name": "Dana", "phone": "+14155550123"}


def raw_post(api_key, body: str, content_type="application/json", **extra):
    client = APIClient(raise_request_exception=False)
    return client.generic(
        "POST", URL, body, content_type=content_type, HTTP_AUTHORIZATION=f"Api-Key {api_key}", **extra
    )


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    assert isinstance(body, dict) and body, body
    return body


@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000,  # unterminated: still past the recursion limit first
        "[" * 5000 + "]" * 5000,
        '{"a": ' * 5000 + "1" + "}" * 5000,
        '{"first_name": ' + "[" * 100 + "]" * 100 + ', "phone": "+14155550123"}',  # parses; too deep anyway
    ],
    ids=["5000-open", "5000-lists", "5000-objects", "100-in-a-field"],
)
@pytest.mark.parametrize("idempotency_key", [None, "deep-1"])
def test_deeply_nested_json_is_400_json_and_saves_nothing(api_key, rep, body, idempotency_key):
    extra = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    response = raw_post(api_key, body, **extra)
    body = assert_json_error(response, 400)
    assert "nested" in body["detail"] or "parse error" in body["detail"]
    assert Lead.objects.count() == 0


def test_nesting_a_form_could_send_still_reaches_the_field_rules(api_key, rep):
    response = raw_post(api_key, '{"first_name": [[["Dana"]]], "phone": "+14155550123"}')
    assert "first_name" in assert_json_error(response, 400)


def test_a_form_body_with_too_many_fields_is_400_json(api_key, settings, rep):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 100
    body = "&".join(f"f{i}=x" for i in range(150)) + "&first_name=Dana&phone=%2B14155550123"
    response = raw_post(api_key, body, content_type="application/x-www-form-urlencoded")
    assert "detail" in assert_json_error(response, 400)
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("get", "/api/nope/", 404),
        ("post", "/api/leads/1/", 404),
        ("post", "/api/", 404),
        ("post", "/api/schema/", 405),
        ("post", "/api/docs/", 405),
        ("delete", "/api/leads/", 405),
        ("put", "/api/leads/", 405),
    ],
)
def test_unknown_paths_and_methods_answer_json(api_client, method, path, status):
    response = getattr(api_client, method)(path)
    assert "detail" in assert_json_error(response, status)


def test_a_missing_trailing_slash_is_a_json_404_that_says_so(api_client):
    # Not the HTML page, nor DEBUG's APPEND_SLASH RuntimeError for a POST.
    response = api_client.post("/api/leads", GOOD, format="json")
    assert "Did you mean /api/leads/" in assert_json_error(response, 404)["detail"]
    assert Lead.objects.count() == 0


def test_a_server_error_answers_json_and_logs_the_traceback(api_key, rep, caplog):
    # The database fails under the request: the idempotency table is gone (rolled back after the test).
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE leads_idempotencyrecord")
    with caplog.at_level(logging.ERROR, logger="intake.api_errors"):
        response = raw_post(api_key, '{"first_name": "Dana", "phone": "+14155550123"}', HTTP_IDEMPOTENCY_KEY="k-1")

    assert assert_json_error(response, 500) == {"detail": "Server error."}
    record = next(r for r in caplog.records if r.name == "intake.api_errors")
    assert "POST /api/leads/" in record.getMessage() and record.exc_info


def test_pages_outside_the_api_keep_their_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")

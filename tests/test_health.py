from unittest import mock

from django.db import DatabaseError


def test_healthz_ok_without_login(client, db):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_503_when_database_is_down(client, db):
    with mock.patch("accounts.views.connection.cursor", side_effect=DatabaseError("down")):
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"

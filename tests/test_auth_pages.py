"""Login, logout, password change and reset pages (Django's auth views with our templates)."""

import re

import pytest
from django.contrib.auth import SESSION_KEY

from tests.factories import PASSWORD


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("/accounts/login/", b"Log in to LeadFollow"),
        ("/accounts/password_reset/", b"Reset your password"),
        ("/accounts/password_reset/done/", b"we emailed instructions"),
        ("/accounts/reset/done/", b"Your password is set"),
    ],
)
def test_public_auth_pages_render(client, db, url, text):
    response = client.get(url)
    assert response.status_code == 200
    assert text in response.content


def test_login_with_the_right_password_logs_in_and_redirects(client, rep):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/"
    assert int(client.session[SESSION_KEY]) == rep.pk


def test_login_with_a_wrong_password_shows_an_error_and_stays_anonymous(client, rep):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert SESSION_KEY not in client.session


def test_login_page_keeps_next(client, db):
    response = client.get("/leads/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=/leads/")
    page = client.get(response.url)
    assert b'name="next" value="/leads/"' in page.content


def test_logout_is_a_post_and_ends_the_session(client_for, rep):
    client = client_for(rep)
    response = client.post("/accounts/logout/")
    assert response.status_code in (200, 302)
    assert SESSION_KEY not in client.session
    assert client.get("/leads/").status_code == 302


def test_password_change_needs_login(client, db):
    response = client.get("/accounts/password_change/")
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


def test_password_change_works(client_for, rep):
    client = client_for(rep)
    assert client.get("/accounts/password_change/").status_code == 200
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "a-new-Secret-42", "new_password2": "a-new-Secret-42"},
    )
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200
    rep.refresh_from_db()
    assert rep.check_password("a-new-Secret-42")


def test_password_change_with_wrong_old_password_changes_nothing(client_for, rep):
    client = client_for(rep)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": "wrong", "new_password1": "a-new-Secret-42", "new_password2": "a-new-Secret-42"},
    )
    assert response.status_code == 200
    rep.refresh_from_db()
    assert rep.check_password(PASSWORD)


def test_password_reset_by_email_link(client, rep, mailoutbox):
    response = client.post("/accounts/password_reset/", {"email": rep.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    response = client.post(set_url, {"new_password1": "reset-Secret-77", "new_password2": "reset-Secret-77"})
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.check_password("reset-Secret-77")


def test_password_reset_for_unknown_email_sends_nothing_and_reveals_nothing(client, db, mailoutbox):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []

"""Login throttling (django-axes): 5 wrong passwords for one username from one IP lock that pair out for 15 minutes."""

import datetime as dt

import time_machine
from django.conf import settings
from django.utils import timezone

from tests.factories import PASSWORD

LOGIN = "/accounts/login/"


def _attempt(client, username, password, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_settings_lock_out_by_username_and_ip_after_five_failures_for_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == dt.timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_the_sixth_bad_password_is_locked_out_even_when_right(client, rep):
    for _ in range(4):
        response = _attempt(client, "alice", "wrong-password")
        assert response.status_code == 200  # the form again, with an error
    # The fifth failure reaches the limit: the answer is already the lockout page.
    assert _attempt(client, "alice", "wrong-password").status_code == 429
    assert _attempt(client, "alice", "another-wrong-one").status_code == 429
    response = _attempt(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Still locked after another try within the cool-off.
    assert _attempt(client, "alice", PASSWORD).status_code == 429


def test_lockout_is_per_username_and_ip(client, rep, teammate):
    for _ in range(5):
        _attempt(client, "alice", "wrong-password")
    assert _attempt(client, "alice", PASSWORD).status_code == 429
    # Another user from the same address, and alice from another address, still log in.
    assert _attempt(client, "bob", PASSWORD).status_code == 302
    client.logout()
    assert _attempt(client, "alice", PASSWORD, ip="10.0.0.2").status_code == 302


def test_lockout_ends_after_the_cool_off(client, rep):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            _attempt(client, "alice", "wrong-password")
        assert _attempt(client, "alice", PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        assert _attempt(client, "alice", PASSWORD).status_code == 302


def test_a_successful_login_resets_the_failure_count(client, rep):
    for _ in range(4):
        _attempt(client, "alice", "wrong-password")
    assert _attempt(client, "alice", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        _attempt(client, "alice", "wrong-password")
    assert _attempt(client, "alice", PASSWORD).status_code == 302


def test_force_login_still_works(client_for, rep):
    assert client_for(rep).get("/leads/").status_code == 200

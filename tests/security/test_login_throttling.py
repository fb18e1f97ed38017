"""Login throttling (django-axes): 5 wrong passwords for one username from one IP lock that pair out for 15 minutes."""

import datetime as dt
import runpy
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
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


# --- The client's address: REMOTE_ADDR, or X-Forwarded-For behind trusted proxies ----------------

SETTINGS_FILE = Path(settings.BASE_DIR) / "leadfollow" / "settings.py"
PROXY = "172.18.0.2"  # the reverse proxy's address on the compose network
CLIENT_A, CLIENT_B = "203.0.113.7", "198.51.100.8"


@pytest.fixture
def trusted_proxies(settings, monkeypatch):
    """trusted_proxies(n): the client-address settings leadfollow/settings.py makes of TRUSTED_PROXY_COUNT=n."""

    def configure(count: int):
        monkeypatch.setenv("TRUSTED_PROXY_COUNT", str(count))
        computed = runpy.run_path(str(SETTINGS_FILE))
        settings.AXES_IPWARE_META_PRECEDENCE_ORDER = computed.get("AXES_IPWARE_META_PRECEDENCE_ORDER", ("REMOTE_ADDR",))
        settings.AXES_IPWARE_PROXY_COUNT = computed.get("AXES_IPWARE_PROXY_COUNT")
        settings.AXES_IPWARE_PROXY_ORDER = computed.get("AXES_IPWARE_PROXY_ORDER", "left-most")
        settings.IPWARE_STRICT = computed.get("IPWARE_STRICT")

    return configure


def _via(client, username, password, *, forwarded_for, remote=PROXY):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded_for
    )


def test_without_a_proxy_setting_x_forwarded_for_is_ignored(client, rep, trusted_proxies):
    trusted_proxies(0)
    # An attacker at 10.0.0.66 claims to be alice's address: the failures count against 10.0.0.66.
    for _ in range(5):
        _via(client, "alice", "wrong-password", forwarded_for=CLIENT_A, remote="10.0.0.66")
    assert _via(Client(), "alice", PASSWORD, forwarded_for="", remote=CLIENT_A).status_code == 302
    # ...and a new made-up address per attempt does not dodge the lockout.
    assert _via(client, "alice", PASSWORD, forwarded_for="192.0.2.99", remote="10.0.0.66").status_code == 429
    assert _via(client, "alice", PASSWORD, forwarded_for=CLIENT_A, remote="10.0.0.66").status_code == 429


def test_behind_one_proxy_two_clients_are_locked_out_separately(rep, trusted_proxies):
    trusted_proxies(1)
    a, b = Client(), Client()
    for _ in range(5):
        _via(a, "alice", "wrong-password", forwarded_for=CLIENT_A)
    assert _via(a, "alice", PASSWORD, forwarded_for=CLIENT_A).status_code == 429
    # Same proxy address, another client behind it: alice still logs in from there.
    assert _via(b, "alice", PASSWORD, forwarded_for=CLIENT_B).status_code == 302


def test_behind_one_proxy_a_made_up_header_neither_dodges_nor_frames(rep, trusted_proxies):
    trusted_proxies(1)
    attacker, victim = Client(), Client()
    # The proxy appends the address it saw; whatever the client sent stays on the left.
    for n in range(5):
        _via(attacker, "alice", "wrong-password", forwarded_for=f"{CLIENT_B}, 192.0.2.{n}, {CLIENT_A}")
    assert _via(attacker, "alice", PASSWORD, forwarded_for=f"192.0.2.200, {CLIENT_A}").status_code == 429
    # The attacker named CLIENT_B in every request: CLIENT_B is not locked out.
    assert _via(victim, "alice", PASSWORD, forwarded_for=CLIENT_B).status_code == 302


def test_behind_two_proxies_the_client_is_second_from_the_right(rep, trusted_proxies):
    trusted_proxies(2)
    cdn = "198.51.100.200"
    for _ in range(5):
        _via(Client(), "alice", "wrong-password", forwarded_for=f"192.0.2.1, {CLIENT_A}, {cdn}")
    assert _via(Client(), "alice", PASSWORD, forwarded_for=f"{CLIENT_A}, {cdn}").status_code == 429
    assert _via(Client(), "alice", PASSWORD, forwarded_for=f"{CLIENT_B}, {cdn}").status_code == 302


def test_a_negative_proxy_count_fails_loudly(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "-1")
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXY_COUNT"):
        runpy.run_path(str(SETTINGS_FILE))

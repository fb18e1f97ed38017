"""Chromium through Playwright for the browser tests: the `browser` fixture (skips without Chromium,
fails under REQUIRE_SERVICES=1) and logging in through the real login form."""

import os

import pytest

from tests import factories
from tests.services import CHROMIUM, chromium_available, require


@pytest.fixture
def browser():
    require(chromium_available(), f"Chromium at {CHROMIUM}")
    # Playwright's sync API runs an event loop in this thread; Django's ORM must still be usable here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Playwright's greenlet has its own context, and so its own Django connection (asgiref Local),
        # kept from the last browser test: one a fault test has cut since is closed, to reconnect.
        _close_unusable_connections()
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield chromium
        finally:
            chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _close_unusable_connections():
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.is_usable():
            conn.close()


def login(browser, live_server, user, *, page=None, lands_on="/today/"):
    """A page (new unless given) logged in as `user` through the login form."""
    page = page or browser.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}{lands_on}")
    return page

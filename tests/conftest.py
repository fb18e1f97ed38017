"""Shared fixtures: the people of two teams (healthchecks' alice/bob/charlie pattern) and services."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from accounts.models import Role
from leadfollow.celery import app as celery_app
from messaging import commit_point
from tests import factories
from tests.services import REDIS_URL, redis_available, require

pytest_plugins = ["tests.fakes.fixtures", "tests.browser"]

TEST_SETTINGS = "leadfollow.settings_test"


def pytest_configure(config):
    # DJANGO_SETTINGS_MODULE in the environment outranks pyproject's: say so instead of failing oddly.
    if settings.SETTINGS_MODULE != TEST_SETTINGS:
        raise pytest.UsageError(
            f"The tests run on {TEST_SETTINGS}, not {settings.SETTINGS_MODULE}: unset DJANGO_SETTINGS_MODULE."
        )


@pytest.fixture(autouse=True)
def _cache_empty():
    """The test settings' in-memory cache starts empty in every test (API throttle counts live there)."""
    cache.clear()


@pytest.fixture(autouse=True)
def _commit_point_connection_closed():
    """A test that dispatched in this process may have opened the commit point's own connection
    (messaging/commit_point.py): closed after it, so the test database can go at the end."""
    yield
    commit_point.connection_close()


@pytest.fixture(autouse=True)
def _celery_producer_inline():
    """A real-worker test points this process's Celery producer at its worker (tests/worker.py):
    the next test gets the test settings' inline producer back."""
    yield
    celery_app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture(autouse=True)
def _reference_cadence_present(request):
    """The shipped cadences come from data migrations, and transactional tests flush every table
    after they run: put them back for any test that uses the database."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db", "live_server"}:
        return
    transactional = bool(marker and marker.kwargs.get("transaction")) or names & {"transactional_db", "live_server"}
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.apps import apps

    from cadences import reference_cadence, shipped_cadences

    reference_cadence.load(apps)
    shipped_cadences.load(apps)


@pytest.fixture
def north(db):
    return factories.TeamFactory(name="North")


@pytest.fixture
def south(db):
    return factories.TeamFactory(name="South")


@pytest.fixture
def rep(north):
    """Alice: a rep in North."""
    return factories.UserFactory(username="alice", first_name="Alice", role=Role.REP, team=north)


@pytest.fixture
def teammate(north):
    """Bob: another rep in North."""
    return factories.UserFactory(username="bob", first_name="Bob", role=Role.REP, team=north)


@pytest.fixture
def other_rep(south):
    """Charlie: a rep in South."""
    return factories.UserFactory(username="charlie", first_name="Charlie", role=Role.REP, team=south)


@pytest.fixture
def manager(north):
    """Mona manages North."""
    user = factories.UserFactory(username="mona", first_name="Mona", role=Role.MANAGER)
    north.managers.add(user)
    return user


@pytest.fixture
def other_manager(south):
    """Sam manages South."""
    user = factories.UserFactory(username="sam", first_name="Sam", role=Role.MANAGER)
    south.managers.add(user)
    return user


@pytest.fixture
def admin_user(db):
    return factories.UserFactory(username="ada", first_name="Ada", role=Role.ADMIN)


@pytest.fixture
def web_source(north):
    return factories.LeadSourceFactory(name="Website", team=north)


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client logged in as `user` (None: anonymous)."""
    from django.test import Client

    def make(user):
        c = Client()
        if user is not None:
            c.force_login(user)
        return c

    return make


@pytest.fixture
def postgres(db):
    require(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def redis_url():
    require(redis_available(), f"Redis at {REDIS_URL}")
    return REDIS_URL

import pytest
from django.core.cache import cache

from leads.services import lead_source_issue_api_key


@pytest.fixture(autouse=True)
def _private_throttle_cache(settings):
    """The throttle counts in the cache: each test gets an empty in-memory one, never the shared file cache."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests-api-throttle"}
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_key(web_source):
    return lead_source_issue_api_key(source=web_source)


@pytest.fixture
def api_client(api_key):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    return client

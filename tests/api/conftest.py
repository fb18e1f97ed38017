import pytest

from leads.services.api_keys import lead_source_issue_api_key


@pytest.fixture
def api_key(web_source):
    return lead_source_issue_api_key(source=web_source)


@pytest.fixture
def api_client(api_key):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    return client

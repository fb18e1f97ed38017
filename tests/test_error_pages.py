"""403, 404 and 500 pages in the product's style (DEBUG is off in tests, as in production), the
favicon, and the API's errors staying JSON."""

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from tests import factories

NAV_LEADS = 'class="nav-link" href="/leads/"'


def test_missing_page_is_the_products_404_with_the_nav_and_a_way_back(client_for, rep):
    response = client_for(rep).get("/leads/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist" in html and "/leads/no-such-page/" in html
    assert NAV_LEADS in html  # the product's navigation (base.html)
    assert f'href="{reverse("home")}">Go to your start page' in html
    assert "Not Found</h1>" not in html  # not Django's bare page


def test_missing_lead_of_another_rep_is_the_same_404(client_for, rep, other_rep):
    lead = factories.LeadFactory(owner=other_rep)
    response = client_for(rep).get(reverse("leads:detail", args=[lead.pk]))
    assert response.status_code == 404 and b"This page does not exist" in response.content
    assert lead.full_name.encode() not in response.content


def test_anonymous_404_offers_the_login(db):
    response = Client().get("/nothing-here/")
    html = response.content.decode()
    assert response.status_code == 404 and "This page does not exist" in html
    assert f'href="{reverse("login")}">Log in' in html and NAV_LEADS not in html


def test_forbidden_page_is_the_products_403(client_for, rep):
    # Cadences are for admins: role_required raises PermissionDenied for a rep.
    response = client_for(rep).get(reverse("cadences:list"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "You can't open this page" in html and "Your role (Sales rep)" in html
    assert NAV_LEADS in html and "Go to your start page" in html


@pytest.mark.urls("tests.error_page_urls")
def test_server_error_is_the_products_500(client_for, rep):
    client = client_for(rep)
    client.raise_request_exception = False
    response = client.get("/broken/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and "LeadFollow</a>" in html
    assert 'href="/static/css/leadfollow.css"' in html
    assert "A bug in a view" not in html and "Traceback" not in html


def test_500_page_needs_no_request_context_and_no_database():
    # No db fixture: pytest-django fails any query. Django's handler renders 500.html with no context.
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and b"Something went wrong on our side" in response.content


def test_api_errors_stay_json(client_for, rep):
    response = client_for(rep).get("/api/nothing/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert "No API endpoint" in response.json()["detail"]


def test_pages_link_the_favicon(client_for, rep):
    html = client_for(rep).get(reverse("leads:list")).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    svg = open(finders.find("favicon.svg")).read()
    assert svg.startswith("<svg") and "#0d6efd" in svg


def test_favicon_ico_answers_at_the_root():
    # WhiteNoise serves WHITENOISE_ROOT before any view: no 404 in the logs, no database.
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file

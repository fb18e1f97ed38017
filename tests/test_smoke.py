"""Smoke: each role signs in, lands on its start page, and every link of its navigation bar renders.

The permission matrix (tests/security/test_permission_matrix.py) says who may reach each URL and
counts a redirect or a 400 as fine; this follows what a person actually clicks, with some work on
the pages, and wants each one rendered.
"""

import re

import pytest
from django.urls import reverse

from tests import factories

NAV_LINK = re.compile(rb'<a class="(?:nav-link|dropdown-item)" href="(/[^"]*)"')
EVERYONE = ["today:index", "leads:list", "leads:intake", "messaging:outbox", "reports:index", "notifications"]
EVERYONE += ["password_change"]
MANAGERS = [*EVERYONE, "today:team", "leads:import_new", "snippets", "unmatched_replies"]
ADMINS = [*MANAGERS, "cadences:list", "admin:index"]


@pytest.fixture
def work(rep, web_source):
    """A lead of Alice's with a call due, so Today, the lead list and the reports have a row."""
    lead = factories.LeadFactory(owner=rep, source=web_source, first_name="Smokey")
    factories.TouchFactory(lead=lead, assigned_to=rep)
    return lead


@pytest.fixture
def site_admin(admin_user):
    """Ada as seed_demo makes its admin: staff and superuser too, so the nav's Admin link opens."""
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save(update_fields=["is_staff", "is_superuser"])
    return admin_user


@pytest.mark.parametrize(("who", "start", "links"), [
    ("rep", "today:index", EVERYONE),
    ("manager", "today:team", MANAGERS),
    ("site_admin", "today:team", ADMINS),
])  # fmt: skip
def test_every_navigation_link_renders_for_its_role(request, client_for, work, who, start, links):
    client = client_for(request.getfixturevalue(who))
    landing = client.get("/", follow=True)
    assert landing.status_code == 200
    assert landing.redirect_chain[-1][0] == reverse(start)
    shown = NAV_LINK.findall(landing.content)
    assert sorted(set(shown)) == sorted(reverse(name).encode() for name in links)
    for url in shown:
        response = client.get(url.decode())
        assert response.status_code == 200, (who, url, response.status_code)


def test_a_reps_lead_is_on_their_lead_list(client_for, rep, work):
    assert work.pk and work.phone.startswith("+1")  # the factory makes US numbers
    response = client_for(rep).get(reverse("leads:list"))
    assert response.status_code == 200 and b"Smokey" in response.content

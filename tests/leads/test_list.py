import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import LeadStatus
from tests.factories import LeadFactory, LeadSourceFactory

URL = reverse("leads:list")


def names(response):
    return [lead.full_name for lead in response.context["leads"]]


def test_anonymous_is_sent_to_login(client_for, db):
    response = client_for(None).get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_rep_sees_only_own_leads(client_for, rep, teammate, alice_lead, charlie_lead):
    LeadFactory(first_name="Bobs", last_name="Lead", owner=teammate)
    response = client_for(rep).get(URL)
    assert response.status_code == 200
    assert names(response) == ["Jane Doe"]
    assert "owner" not in response.context["form"].fields


def test_manager_sees_their_teams_leads(client_for, manager, teammate, alice_lead, charlie_lead):
    LeadFactory(first_name="Bobs", last_name="Lead", owner=teammate)
    response = client_for(manager).get(URL)
    assert sorted(names(response)) == ["Bobs Lead", "Jane Doe"]


def test_admin_sees_all(client_for, admin_user, alice_lead, charlie_lead):
    response = client_for(admin_user).get(URL)
    assert sorted(names(response)) == ["Carl South", "Jane Doe"]


def test_columns_render(client_for, rep, alice_lead, web_source):
    alice_lead.source = web_source
    alice_lead.attempt_count = 3
    alice_lead.save()
    html = client_for(rep).get(URL).content.decode()
    assert 'href="tel:+14155550100"' in html and "(415) 555-0100" in html and "+1 415-555-0100" not in html
    assert 'href="mailto:jane@example.org"' in html
    assert "Acme" in html and "Website" in html and "New</span>" in html
    assert reverse("leads:detail", args=[alice_lead.pk]) in html


@pytest.mark.parametrize("q", ["jane", "DOE", "Jane Doe", "jane@EXAMPLE", "(415) 555-0100", "415-555-0100", "5550100"])
def test_search_matches_name_email_and_formatted_phone(client_for, rep, alice_lead, q):
    LeadFactory(first_name="Other", last_name="Person", phone="+12125550199", email="o@example.com", owner=rep)
    response = client_for(rep).get(URL, {"q": q})
    assert names(response) == ["Jane Doe"]


def test_search_by_international_number(client_for, rep):
    LeadFactory(first_name="Liz", last_name="London", phone="+442079460958", owner=rep)
    LeadFactory(first_name="Other", phone="+12125550199", owner=rep)
    assert names(client_for(rep).get(URL, {"q": "+44 20 7946 0958"})) == ["Liz London"]


def test_search_does_not_reach_other_reps_leads(client_for, rep, alice_lead, charlie_lead):
    assert names(client_for(rep).get(URL, {"q": "312 555 0100"})) == []
    assert names(client_for(rep).get(URL, {"q": "Carl"})) == []


def test_filters_status_source_owner(client_for, manager, rep, teammate, web_source):
    other_source = LeadSourceFactory(name="Referral")
    LeadFactory(first_name="A", last_name="New", owner=rep, source=web_source)
    LeadFactory(first_name="B", last_name="Working", owner=rep, status=LeadStatus.WORKING, source=other_source)
    LeadFactory(first_name="C", last_name="Bob", owner=teammate, source=web_source)
    client = client_for(manager)
    assert names(client.get(URL, {"status": "working"})) == ["B Working"]
    assert sorted(names(client.get(URL, {"source": web_source.pk}))) == ["A New", "C Bob"]
    assert names(client.get(URL, {"owner": teammate.pk})) == ["C Bob"]
    assert names(client.get(URL, {"owner": rep.pk, "source": web_source.pk})) == ["A New"]


def test_owner_choices_only_people_the_viewer_may_see(client_for, manager, rep, teammate, other_rep, charlie_lead):
    response = client_for(manager).get(URL)
    choices = set(response.context["form"].fields["owner"].queryset)
    assert {rep, teammate, manager} <= choices
    assert other_rep not in choices
    # Asking for someone else's owner is ignored, not an error and not a leak.
    response = client_for(manager).get(URL, {"owner": other_rep.pk})
    assert response.status_code == 200
    assert "Carl South" not in names(response)


def test_pagination_25_per_page_newest_first(client_for, rep):
    now = timezone.now()
    for i in range(30):
        LeadFactory(first_name=f"Lead{i:02d}", last_name="", owner=rep, created_at=now - datetime.timedelta(hours=i))
    client = client_for(rep)
    page1 = client.get(URL)
    assert len(page1.context["leads"]) == 25
    assert names(page1)[:2] == ["Lead00", "Lead01"]
    page2 = client.get(URL, {"page": 2})
    assert names(page2) == [f"Lead{i:02d}" for i in range(25, 30)]
    # Filters are kept in the page links.
    assert "page=2" in page1.content.decode()
    assert client.get(URL, {"page": "junk"}).status_code == 200


def test_htmx_gets_only_the_table(client_for, rep, alice_lead):
    response = client_for(rep).get(URL, {"q": "jane"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert [t.name for t in response.templates][0] == "leads/_table.html"
    assert "<html" not in html and "Jane Doe" in html
    assert "HX-Request" in response["Vary"]


def test_constant_queries_whatever_the_rows(
    client_for, manager, rep, teammate, web_source, count_queries, django_assert_num_queries
):
    client = client_for(manager)
    LeadFactory(owner=rep, source=web_source)
    expected = count_queries(lambda: client.get(URL))
    expected_partial = count_queries(lambda: client.get(URL, HTTP_HX_REQUEST="true"))
    for i in range(29):
        LeadFactory(owner=rep if i % 2 else teammate, source=LeadSourceFactory())
    with django_assert_num_queries(expected):
        response = client.get(URL)
    assert len(response.context["leads"]) == 25
    with django_assert_num_queries(expected_partial):
        client.get(URL, HTTP_HX_REQUEST="true")

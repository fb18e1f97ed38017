"""The development SMS outbox page: who sees which texts, and a constant number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from messaging.models import Message
from tests import factories

URL = "/outbox/"


def outbox_sms(lead, body="Hi from the outbox", **kwargs):
    fields = {
        "direction": Message.Direction.OUTBOUND,
        "channel": "sms",
        "status": Message.Status.OUTBOX,
        "lead": lead,
        "to": lead.phone if lead else "+14155550100",
        "body": body,
        "provider_message_id": f"OUTBOX-{Message.objects.count()}",
    }
    return Message.objects.create(**{**fields, **kwargs})


@pytest.fixture
def texts(rep, teammate, other_rep):
    """One outbox text per rep's lead, plus messages that are not outbox SMS."""
    mine = outbox_sms(factories.LeadFactory(owner=rep), "text to alice's lead")
    teammates = outbox_sms(factories.LeadFactory(owner=teammate), "text to bob's lead")
    others = outbox_sms(factories.LeadFactory(owner=other_rep), "text to charlie's lead")
    outbox_sms(factories.LeadFactory(owner=rep), "a text really sent", status=Message.Status.SENT)
    Message.objects.create(
        direction="out", channel="email", status="outbox", lead=mine.lead, to="x@example.org", body="an email"
    )
    return {"mine": mine, "teammates": teammates, "others": others}


def bodies(response):
    return [m.body for m in response.context["page"]]


def test_url_name():
    assert reverse("messaging:outbox") == URL


def test_anonymous_is_sent_to_login(client, texts):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_rep_sees_only_texts_to_their_own_leads(client_for, rep, texts):
    response = client_for(rep).get(URL)

    assert response.status_code == 200
    assert bodies(response) == ["text to alice's lead"]
    assert b"text to bob&#x27;s lead" not in response.content
    assert b"SMS outbox" in response.content  # the nav link


def test_manager_sees_their_teams_texts(client_for, manager, texts):
    response = client_for(manager).get(URL)

    assert sorted(bodies(response)) == ["text to alice's lead", "text to bob's lead"]


def test_other_manager_sees_only_their_team(client_for, other_manager, texts):
    assert bodies(client_for(other_manager).get(URL)) == ["text to charlie's lead"]


def test_admin_sees_all_newest_first(client_for, admin_user, texts):
    leadless = outbox_sms(None, "text with no lead")

    response = client_for(admin_user).get(URL)

    assert bodies(response) == [
        leadless.body,
        "text to charlie's lead",
        "text to bob's lead",
        "text to alice's lead",
    ]


def test_empty_outbox(client_for, rep):
    response = client_for(rep).get(URL)

    assert response.status_code == 200
    assert b"The outbox is empty." in response.content


def test_paginated(client_for, rep):
    lead = factories.LeadFactory(owner=rep)
    for i in range(55):
        outbox_sms(lead, f"text {i}")
    client = client_for(rep)

    first = client.get(URL)
    second = client.get(URL, {"page": 2})
    beyond = client.get(URL, {"page": 99})
    junk = client.get(URL, {"page": "x"})

    assert len(bodies(first)) == 50 and bodies(first)[0] == "text 54"
    assert bodies(second) == [f"text {i}" for i in reversed(range(5))]
    assert bodies(beyond) == bodies(second)  # get_page clamps to the last page
    assert bodies(junk) == bodies(first)


@pytest.mark.parametrize("who", ["rep", "manager", "admin_user"])
def test_constant_queries(client_for, django_assert_num_queries, request, who, rep):
    """The same number of queries for 1 row and for 20 (lead names come with a join)."""
    user = request.getfixturevalue(who)
    outbox_sms(factories.LeadFactory(owner=rep))
    client = client_for(user)
    client.get(URL)  # warm up

    with CaptureQueriesContext(connection) as one_row:
        assert len(bodies(client.get(URL))) == 1
    for i in range(19):
        outbox_sms(factories.LeadFactory(owner=rep), f"text {i}")

    with django_assert_num_queries(len(one_row.captured_queries)):
        assert len(bodies(client.get(URL))) == 20
    # session, user, unread notifications, (managers and admins: unmatched replies count,) count, page
    assert len(one_row.captured_queries) <= (5 if who == "rep" else 6)


def test_numbers_show_in_national_format_with_a_tel_link(client_for, rep):
    outbox_sms(factories.LeadFactory(owner=rep, phone="+14152498831"))
    html = client_for(rep).get(URL).content.decode()
    assert '<a href="tel:+14152498831">(415) 249-8831</a>' in html and ">+14152498831<" not in html

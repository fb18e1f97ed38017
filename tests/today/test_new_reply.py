"""Today's "New reply" (today/reply_views.py) and the Write/Email/Text actions on a row."""

import pytest
from django.urls import reverse

from cadences.models import Channel
from messaging.models import Message
from tests import factories

pytestmark = pytest.mark.django_db


def message(lead, direction, body="Hi"):
    return Message.objects.create(
        direction=direction,
        channel="sms",
        lead=lead,
        to="x",
        body=body,
        status="sent" if direction == "out" else "received",
    )


def badges(client, *leads):
    response = client.get(reverse("today:replies"), {"lead": [lead.pk for lead in leads]})
    assert response.status_code == 200
    page = response.content.decode()
    return {lead.pk for lead in leads if f'id="reply-badge-{lead.pk}" hx-swap-oob="true"><a' in page}


def test_new_reply_until_answered_or_seen(client_for, rep):
    wrote, answered, seen, quiet = (factories.LeadFactory(owner=rep) for _ in range(4))
    for lead in (wrote, answered, seen):
        message(lead, "out")
        message(lead, "in", "Call me")
    message(answered, "out", "Sure")
    message(quiet, "out")
    client = client_for(rep)

    assert badges(client, wrote, answered, seen, quiet) == {wrote.pk, seen.pk}
    client.get(reverse("leads:conversation", kwargs={"pk": seen.pk}))  # the rep read it
    assert badges(client, wrote, answered, seen, quiet) == {wrote.pk}
    message(seen, "in", "Hello?")
    assert badges(client, wrote, seen) == {wrote.pk, seen.pk}


def test_other_teams_leads_are_never_flagged(client_for, rep, other_rep):
    theirs = factories.LeadFactory(owner=other_rep)
    message(theirs, "in")
    assert badges(client_for(rep), theirs) == set()


@pytest.mark.parametrize("count", [2, 20])
def test_constant_queries(client_for, rep, count, django_assert_num_queries):
    leads = [factories.LeadFactory(owner=rep) for _ in range(count)]
    for lead in leads:
        message(lead, "in")
    client = client_for(rep)
    badges(client, *leads)
    # The same with 2 or 20 leads: session, user, the messages grouped by lead, and the request's own one.
    with django_assert_num_queries(4):
        assert badges(client, *leads) == {lead.pk for lead in leads}


def test_today_row_offers_writing_the_step_and_polls_for_replies(client_for, rep, make_task):
    task = make_task(rep, step="day5_email")
    page = client_for(rep).get("/today/").content.decode()
    compose = reverse("leads:compose", kwargs={"pk": task.lead_id, "channel": "email"})
    assert f'href="{compose}?task={task.pk}&amp;back=today"' in page
    # Writing on the other channel is behind the row's "More".
    more = client_for(rep).get(reverse("today:row_more", args=[task.pk])).content.decode()
    assert reverse("leads:compose", kwargs={"pk": task.lead_id, "channel": "sms"}) in more
    assert 'id="reply-poll"' in page and f'class="reply-lead" name="lead" value="{task.lead_id}"' in page
    assert task.channel == Channel.EMAIL


def test_sending_from_a_today_row_goes_back_to_today(client_for, rep, make_task, django_capture_on_commit_callbacks):
    task = make_task(rep, step="day5_email")
    url = reverse("leads:compose", kwargs={"pk": task.lead_id, "channel": "email"})
    client = client_for(rep)
    assert 'name="back" value="today"' in client.get(f"{url}?task={task.pk}&back=today").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"task": task.pk, "back": "today", "subject": "Hi", "body": "Hello"})
    assert response.status_code == 302 and response.url == reverse("today:index")
    task.refresh_from_db()
    assert task.outcome == "sent"

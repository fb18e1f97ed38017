"""The "Unmatched replies" page: emails no rule could file, attached to a lead or discarded by a manager."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Notification
from cadences.models import Enrollment, Touch
from messaging.models import InboundEmail, Message
from reactions.inbound_email import REPLY_TASK_TITLE, inbound_email_receive
from tests import factories

pytestmark = pytest.mark.django_db


def stranger_reply(n=1, frm="pat.private@example.net"):
    return (
        f"From: Pat <{frm}>\r\n"
        "To: sales@leadfollow.example\r\n"
        f"Subject: About my quote {n}\r\n"
        "Date: Wed, 02 Dec 2026 15:00:00 +0000\r\n"
        f"Message-ID: <stranger-{n}@example.net>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"Can we talk tomorrow? ({n})\r\n"
        "\r\n"
        "On Tue, Dec 1, 2026 at 9:00 AM Alice <sales@leadfollow.example> wrote:\r\n"
        "> Hi Pat, following up on your quote.\r\n"
    ).encode()


@pytest.fixture
def lead(rep):
    lead = factories.LeadFactory(first_name="Pat", last_name="Lee", email="pat.lee@example.org", owner=rep)
    factories.EnrollmentFactory(lead=lead)
    return lead


@pytest.fixture
def unmatched(lead):
    inbound = inbound_email_receive(stranger_reply(), via="imap").inbound
    assert inbound.state == InboundEmail.State.UNMATCHED
    return inbound


def test_managers_see_the_unmatched_email_and_the_count_in_their_navigation(client_for, manager, unmatched, lead):
    matched = inbound_email_receive(stranger_reply(2, frm=lead.email), via="imap").inbound
    assert matched.state == InboundEmail.State.MATCHED

    response = client_for(manager).get(reverse("unmatched_replies"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "pat.private@example.net" in page and "About my quote 1" in page
    assert "Can we talk tomorrow? (1)" in page and "following up on your quote" not in page
    assert "About my quote 2" not in page  # matched: on its lead, not here
    assert 'Unmatched replies <span class="badge bg-warning text-dark">1</span>' in page


def test_reps_are_refused_and_have_no_link(client_for, rep, unmatched):
    assert client_for(rep).get(reverse("unmatched_replies")).status_code == 403
    assert "Unmatched replies" not in client_for(rep).get(reverse("today:index")).content.decode()


def test_the_list_takes_the_same_queries_for_a_few_or_a_full_page(client_for, admin_user):
    client = client_for(admin_user)
    counts = []
    for batch in (range(1, 3), range(3, 30)):
        for n in batch:
            inbound_email_receive(stranger_reply(n, frm=f"someone{n}@example.net"), via="imap")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("unmatched_replies")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert all('"raw"' not in q["sql"] for q in queries.captured_queries if "inbound" in q["sql"])


def test_attach_runs_the_replys_effects(client_for, manager, unmatched, lead, rep):
    client = client_for(manager)
    search = client.get(reverse("unmatched_reply_attach", args=[unmatched.pk]), {"q": "Pat Lee"})
    assert f"#{lead.pk} Pat Lee" in search.content.decode()

    response = client.post(reverse("unmatched_reply_attach", args=[unmatched.pk]), {"lead": lead.pk})

    assert response.status_code == 302
    unmatched.refresh_from_db()
    assert (unmatched.state, unmatched.lead, unmatched.matched_by, unmatched.handled_by) == (
        "assigned",
        lead,
        "manager",
        manager,
    )
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.EXITED
    assert Touch.objects.open_tasks().filter(lead=lead, title=REPLY_TASK_TITLE, urgent=True).count() == 1
    assert Notification.objects.filter(user=rep, lead=lead).count() == 1
    (message,) = Message.objects.filter(lead=lead, direction=Message.Direction.INBOUND)
    assert message.body.startswith("Can we talk tomorrow?") and message.sender == "pat.private@example.net"
    assert lead.events.filter(text__startswith="Email reply: Can we talk tomorrow?", actor=manager).exists()
    assert "pat.private@example.net" not in client.get(reverse("unmatched_replies")).content.decode()
    # Attached once: a second attach finds nothing to attach.
    again = client.post(reverse("unmatched_reply_attach", args=[unmatched.pk]), {"lead": lead.pk})
    assert again.status_code == 404


def test_another_teams_manager_cannot_attach_to_a_lead_outside_their_teams(client_for, other_manager, unmatched, lead):
    client = client_for(other_manager)
    assert client.get(reverse("unmatched_reply_attach", args=[unmatched.pk]), {"q": "Pat"}).status_code == 200
    assert (
        f"#{lead.pk} Pat Lee"
        not in client.get(reverse("unmatched_reply_attach", args=[unmatched.pk]), {"q": "Pat"}).content.decode()
    )

    response = client.post(reverse("unmatched_reply_attach", args=[unmatched.pk]), {"lead": lead.pk})

    assert response.status_code == 404
    unmatched.refresh_from_db()
    assert (unmatched.state, unmatched.lead) == ("unmatched", None)
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.ACTIVE


def test_discard_keeps_the_email_out_of_the_list(client_for, manager, unmatched):
    client = client_for(manager)

    assert client.post(reverse("unmatched_reply_discard", args=[unmatched.pk])).status_code == 302

    unmatched.refresh_from_db()
    assert (unmatched.state, unmatched.handled_by, unmatched.lead) == ("discarded", manager, None)
    assert "pat.private@example.net" not in client.get(reverse("unmatched_replies")).content.decode()
    assert client.post(reverse("unmatched_reply_discard", args=[unmatched.pk])).status_code == 404
    assert client.get(reverse("unmatched_reply_discard", args=[unmatched.pk])).status_code == 405

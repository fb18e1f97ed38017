"""Deliveries at once (PostgreSQL: real concurrent transactions): IMAP and a webhook delivering the
same reply together, several replies of one lead together."""

import pytest

from accounts.models import Notification
from cadences.models import Channel, Touch, TouchStatus
from messaging.models import InboundEmail, Message
from reactions import inbound_email as reaction
from reactions.inbound_email import REPLY_TASK_TITLE, inbound_email_receive
from tests import factories
from tests.leads.test_intake_concurrency import run_at_once

THREADS = 6


def reply(lead, touch, n=0):
    return (
        f"From: {lead.email}\r\nTo: sales@leadfollow.example\r\nSubject: Re: Hello\r\n"
        f"Message-ID: <reply-{n}@example.org>\r\nIn-Reply-To: <touch-{touch.pk}@leadfollow.example>\r\n"
        "Content-Type: text/plain\r\n\r\nYes, call me.\r\n"
    ).encode()


@pytest.fixture
def sent(rep, settings):
    settings.DEFAULT_FROM_EMAIL = "LeadFollow <sales@leadfollow.example>"
    lead = factories.LeadFactory(owner=rep)
    enrollment = factories.EnrollmentFactory(lead=lead)
    return factories.TouchFactory(
        lead=lead, enrollment=enrollment, channel=Channel.EMAIL, automated=True, status=TouchStatus.SENT
    )


def open_reply_tasks(lead):
    return Touch.objects.open_tasks().filter(lead=lead, title=REPLY_TASK_TITLE)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_email_delivered_at_once_is_processed_once(postgres, sent, rep, monkeypatch):
    # Every delivery gets past the early "seen?" look: only the unique Message-ID decides.
    monkeypatch.setattr(reaction, "inbound_email_seen", lambda key: None)
    raw = reply(sent.lead, sent)

    results, errors = run_at_once(lambda i: inbound_email_receive(raw, via="imap"), n=THREADS)

    assert errors == []
    assert sum(not r.duplicate for r in results) == 1
    assert InboundEmail.objects.count() == 1
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 1
    assert open_reply_tasks(sent.lead).count() == 1
    assert Notification.objects.filter(user=rep).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_replies_of_one_lead_at_once_make_one_task(postgres, sent, rep):
    # No cadence running (it ended with an earlier reply): only the lead's row lock keeps them apart.
    sent.enrollment.delete()
    results, errors = run_at_once(lambda i: inbound_email_receive(reply(sent.lead, sent, i), via="imap"), n=THREADS)

    assert errors == []
    assert not any(r.duplicate for r in results)
    assert InboundEmail.objects.filter(state="matched", lead=sent.lead).count() == THREADS
    assert open_reply_tasks(sent.lead).count() == 1
    assert Notification.objects.filter(user=rep).count() == THREADS

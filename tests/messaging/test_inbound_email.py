"""An email arrives: reactions.inbound_email.inbound_email_receive with real RFC 5322 bytes."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from accounts.models import Notification
from cadences.models import Channel, Enrollment, Touch, TouchStatus
from cadences.tasks import enrollments_resume_due
from leads.models import Lead, LeadEvent
from messaging.models import InboundEmail, Message
from messaging.reply_address import reply_to_for
from reactions.inbound_email import REPLY_TASK_TITLE, inbound_email_receive
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)  # a Wednesday
DATE = "Wed, 02 Dec 2026 15:00:00 +0000"
LEAD_EMAIL = "pat.lee@example.org"


@pytest.fixture(autouse=True)
def _clock_and_domain(settings):
    settings.DEFAULT_FROM_EMAIL = "LeadFollow <sales@leadfollow.example>"
    settings.REPLY_TO_ADDRESS = "replies@leadfollow.example"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def lead(rep):
    return factories.LeadFactory(
        first_name="Pat", last_name="Lee", email=LEAD_EMAIL, owner=rep, timezone="America/Los_Angeles"
    )


@pytest.fixture
def enrollment(lead):
    """A running cadence: the first email went out, a call and a second email wait."""
    enrollment = factories.EnrollmentFactory(lead=lead, started_at=NOW - dt.timedelta(days=1))
    sent = factories.TouchFactory(
        lead=lead, enrollment=enrollment, channel=Channel.EMAIL, automated=True, status=TouchStatus.SENT
    )
    factories.TouchFactory(lead=lead, enrollment=enrollment, channel=Channel.CALL, due_at=NOW + dt.timedelta(hours=2))
    factories.TouchFactory(
        lead=lead, enrollment=enrollment, channel=Channel.EMAIL, automated=True, due_at=NOW + dt.timedelta(days=2)
    )
    enrollment.sent_touch = sent
    return enrollment


def gmail_reply(*, frm=LEAD_EMAIL, to="sales@leadfollow.example", in_reply_to="", msgid="<CAF1x@mail.gmail.com>"):
    threading = f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n" if in_reply_to else ""
    return (
        f"Return-Path: <{frm}>\r\n"
        f"From: Pat Lee <{frm}>\r\n"
        f"To: {to}\r\n"
        "Subject: Re: Your quote, Pat\r\n"
        f"Date: {DATE}\r\n"
        f"Message-ID: {msgid}\r\n"
        f"{threading}"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="UTF-8"\r\n'
        "\r\n"
        "Yes, Thursday at 10 works for me. Call my cell.\r\n"
        "\r\n"
        "On Tue, Dec 1, 2026 at 9:00 AM Alice Smith <sales@leadfollow.example> wrote:\r\n"
        "> Hi Pat,\r\n"
        "> would you have 15 minutes this week?\r\n"
        "> Alice\r\n"
    ).encode()


def out_of_office(*, body, msgid="<oof-1@example.org>", to="sales@leadfollow.example"):
    return (
        f"From: Pat Lee <{LEAD_EMAIL}>\r\n"
        f"To: {to}\r\n"
        "Subject: Automatic reply: Your quote, Pat\r\n"
        f"Date: {DATE}\r\n"
        f"Message-ID: {msgid}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "X-Auto-Response-Suppress: All\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{body}\r\n"
    ).encode()


def dsn(*, status, action, original_msgid, recipient=LEAD_EMAIL, msgid="<20261202150000.AB12@mx.leadfollow.example>"):
    boundary = "A1B2C3.1764687600/mx.leadfollow.example"
    return (
        "From: MAILER-DAEMON@mx.leadfollow.example (Mail Delivery System)\r\n"
        "To: sales@leadfollow.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {DATE}\r\n"
        f"Message-ID: {msgid}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Description: Notification\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "This is the mail system at host mx.leadfollow.example.\r\n"
        "I'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients.\r\n"
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Description: Delivery report\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.leadfollow.example\r\n"
        "Arrival-Date: Wed,  2 Dec 2026 14:59:58 +0000 (UTC)\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Original-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Remote-MTA: dns; mx.example.org\r\n"
        f"Diagnostic-Code: smtp; {'550' if status.startswith('5') else '451'} {status} <{recipient}>: "
        "Recipient address rejected\r\n"
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Description: Undelivered Message Headers\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        "From: LeadFollow <sales@leadfollow.example>\r\n"
        f"To: {recipient}\r\n"
        "Subject: Your quote, Pat\r\n"
        f"Message-ID: {original_msgid}\r\n"
        "\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def touch_msgid(touch):
    return f"<touch-{touch.pk}@leadfollow.example>"


def open_reply_tasks(lead):
    return Touch.objects.open_tasks().filter(lead=lead, title=REPLY_TASK_TITLE)


# --- Replies: matched three ways, effects once -----------------------------------------------------------


def test_reply_matched_by_in_reply_to_exits_the_cadence_with_one_task_and_one_notification(lead, enrollment, rep):
    result = inbound_email_receive(
        gmail_reply(frm="pat@another-address.example", in_reply_to=touch_msgid(enrollment.sent_touch)), via="imap"
    )

    inbound = result.inbound
    assert not result.duplicate
    assert (inbound.state, inbound.lead, inbound.matched_by, inbound.kind) == ("matched", lead, "in_reply_to", "reply")
    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.exit_reason) == (Enrollment.State.EXITED, "replied")
    assert not Touch.objects.filter(enrollment=enrollment, status__in=[TouchStatus.SCHEDULED, TouchStatus.PENDING])
    (task,) = open_reply_tasks(lead)
    assert (task.urgent, task.channel, task.assigned_to) == (True, Channel.EMAIL, rep)
    (note,) = Notification.objects.filter(user=rep)
    assert note.text == "Pat Lee replied by email — answer now" and note.lead == lead
    (line,) = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.MESSAGE_IN)
    assert line.text.startswith("Email reply: Yes, Thursday at 10 works for me.")
    assert ">" not in line.text and "wrote:" not in line.text and "15 minutes" not in line.text
    (message,) = Message.objects.filter(lead=lead, direction=Message.Direction.INBOUND)
    assert (message.channel, message.message_id, message.provider_message_id) == (
        "email",
        "<CAF1x@mail.gmail.com>",
        "<CAF1x@mail.gmail.com>",
    )
    assert message.sender == "pat@another-address.example"
    assert "15 minutes" not in message.body


def test_reply_matched_by_outbound_message_id(lead):
    factories.LeadFactory(email="pat@another-address.example", owner=lead.owner)  # the sender rule would pick it
    Message.objects.create(
        direction=Message.Direction.OUTBOUND,
        channel="email",
        lead=lead,
        to=LEAD_EMAIL,
        body="Hi",
        message_id="<rep-answer-7@leadfollow.example>",
        status=Message.Status.SENT,
    )
    result = inbound_email_receive(
        gmail_reply(frm="pat@another-address.example", in_reply_to="<rep-answer-7@leadfollow.example>"), via="imap"
    )
    assert (result.inbound.lead, result.inbound.matched_by) == (lead, "in_reply_to")


def test_reply_matched_by_the_reply_token(lead, enrollment):
    # Sent from another address, threading lost (a forward, a new email to the Reply-To).
    raw = gmail_reply(frm="pat@another-address.example", to=f"Sales <{reply_to_for(lead.pk).upper()}>")

    result = inbound_email_receive(raw, via="webhook:mailgun")

    assert (result.inbound.lead, result.inbound.matched_by, result.inbound.via) == (lead, "token", "webhook:mailgun")
    assert Enrollment.objects.get(pk=enrollment.pk).state == Enrollment.State.EXITED


def test_reply_matched_by_the_sender_latest_open_lead(lead, rep):
    closed_later = factories.LeadFactory(email=LEAD_EMAIL.upper(), owner=rep, status="lost")
    assert closed_later.created_at >= lead.created_at

    result = inbound_email_receive(gmail_reply(frm="PAT.LEE@Example.org"), via="imap")

    assert (result.inbound.lead, result.inbound.matched_by) == (lead, "sender")


def test_a_forged_token_is_refused_and_the_email_waits_unmatched(lead):
    value = reply_to_for(lead.pk).split("+")[1].split("-")[0]  # the lead's id, readable in any token
    raw = gmail_reply(frm="stranger@example.net", to=f"replies+{value}-{'a' * 16}@leadfollow.example")

    result = inbound_email_receive(raw, via="imap")

    assert (result.inbound.state, result.inbound.lead) == ("unmatched", None)


def test_the_same_message_twice_is_processed_once(lead, enrollment, rep):
    raw = gmail_reply(in_reply_to=touch_msgid(enrollment.sent_touch))

    first = inbound_email_receive(raw, via="imap")
    again = inbound_email_receive(raw, via="webhook:mailgun")

    assert not first.duplicate and again.duplicate and again.inbound == first.inbound
    assert InboundEmail.objects.count() == 1
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 1
    assert open_reply_tasks(lead).count() == 1
    assert Notification.objects.filter(user=rep).count() == 1
    assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.MESSAGE_IN).count() == 1


def test_the_reps_open_task_the_reply_answers_is_left_as_it_is(lead, enrollment):
    answered = factories.TouchFactory(lead=lead, enrollment=enrollment, channel=Channel.EMAIL, automated=False)

    inbound_email_receive(gmail_reply(in_reply_to=touch_msgid(answered)), via="imap")

    answered.refresh_from_db()
    assert answered.status == TouchStatus.SCHEDULED
    assert Enrollment.objects.get(pk=enrollment.pk).state == Enrollment.State.EXITED
    others = Touch.objects.filter(enrollment=enrollment).exclude(pk__in=[answered.pk, enrollment.sent_touch.pk])
    assert {t.status for t in others} == {TouchStatus.CANCELLED}


def test_a_second_reply_does_not_stack_a_second_task(lead, enrollment, rep):
    inbound_email_receive(gmail_reply(msgid="<one@mail.gmail.com>"), via="imap")
    inbound_email_receive(gmail_reply(msgid="<two@mail.gmail.com>"), via="imap")

    assert open_reply_tasks(lead).count() == 1
    assert Notification.objects.filter(user=rep).count() == 2  # each reply is news
    assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.MESSAGE_IN).count() == 2


def test_unmatched_reply_changes_nothing_and_makes_no_lead(lead, enrollment):
    leads_before = Lead.objects.count()

    result = inbound_email_receive(gmail_reply(frm="stranger@example.net"), via="imap")

    assert (result.inbound.state, result.inbound.lead, result.inbound.from_address) == (
        "unmatched",
        None,
        "stranger@example.net",
    )
    assert Lead.objects.count() == leads_before
    assert Enrollment.objects.get(pk=enrollment.pk).state == Enrollment.State.ACTIVE
    assert not Message.objects.filter(direction=Message.Direction.INBOUND).exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("raw", [b"", b"\x00\xff\xfe garbage \x81", b"not an email at all", b"From: \r\n\r\n\r\n"])
def test_garbage_is_kept_unmatched_once_and_never_raises(raw):
    first = inbound_email_receive(raw, via="command")
    again = inbound_email_receive(raw, via="command")

    assert first.inbound.state == "unmatched" and first.inbound.message_id.startswith("sha256:")
    assert bytes(first.inbound.raw) == raw
    assert again.duplicate


# --- Out of office --------------------------------------------------------------------------------------------


def test_out_of_office_pauses_until_the_return_date_and_beat_resumes_it(lead, enrollment):
    raw = out_of_office(body="I am out of the office until Monday 14 December 2026 with limited access to email.")

    result = inbound_email_receive(raw, via="imap")

    assert (result.inbound.kind, result.inbound.lead) == ("auto_reply", lead)
    enrollment.refresh_from_db()
    back = dt.datetime(2026, 12, 14, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert (enrollment.state, enrollment.paused_until) == (Enrollment.State.PAUSED, back)
    assert not open_reply_tasks(lead).exists() and not Notification.objects.exists()
    assert LeadEvent.objects.filter(lead=lead, text="Out-of-office reply: cadence paused until Mon 14 Dec 2026, 09:00")
    waiting = Touch.objects.filter(enrollment=enrollment, status=TouchStatus.PAUSED)
    assert waiting.count() == 2

    with time_machine.travel(back - dt.timedelta(minutes=1), tick=False):
        assert enrollments_resume_due() == 0
    with time_machine.travel(back + dt.timedelta(seconds=30), tick=False):
        assert enrollments_resume_due() == 1
    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.paused_until, enrollment.exit_reason) == ("active", None, "")
    assert Touch.objects.filter(enrollment=enrollment, status=TouchStatus.SCHEDULED).count() == 2


def test_out_of_office_without_a_date_pauses_seven_days(lead, enrollment):
    inbound_email_receive(out_of_office(body="Thanks for your email. I am away and will reply when I can."), via="imap")

    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.paused_until) == (Enrollment.State.PAUSED, NOW + dt.timedelta(days=7))


def test_out_of_office_leaves_a_reps_pause_as_it_is(lead, enrollment, rep):
    from cadences.services import enrollment_pause

    enrollment_pause(enrollment=enrollment, by=rep)

    inbound_email_receive(out_of_office(body="I am out of the office until 14 December 2026."), via="imap")

    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.paused_until) == (Enrollment.State.PAUSED, None)
    assert LeadEvent.objects.filter(lead=lead, text__contains="stays paused as a rep left it").count() == 1
    with time_machine.travel(NOW + dt.timedelta(days=30), tick=False):
        assert enrollments_resume_due() == 0


# --- Bounces ---------------------------------------------------------------------------------------------------


def test_hard_bounce_marks_the_address_invalid_and_skips_scheduled_emails(lead, enrollment):
    raw = dsn(status="5.1.1", action="failed", original_msgid=touch_msgid(enrollment.sent_touch))

    result = inbound_email_receive(raw, via="imap")

    assert (result.inbound.kind, result.inbound.lead, result.inbound.matched_by) == ("bounce", lead, "original")
    lead.refresh_from_db()
    assert lead.email_invalid
    emails = Touch.objects.filter(enrollment=enrollment, channel=Channel.EMAIL, automated=True).exclude(
        pk=enrollment.sent_touch.pk
    )
    assert [t.status for t in emails] == [TouchStatus.SKIPPED]
    assert LeadEvent.objects.filter(lead=lead, text__startswith=f"Email to {LEAD_EMAIL} bounced: 5.1.1")
    assert Enrollment.objects.get(pk=enrollment.pk).state == Enrollment.State.ACTIVE  # calls go on
    assert not Message.objects.filter(direction=Message.Direction.INBOUND).exists()


def test_hard_bounce_matched_by_the_recipient_when_the_original_is_not_ours(lead):
    result = inbound_email_receive(dsn(status="5.1.1", action="failed", original_msgid="<x@elsewhere>"), via="imap")

    assert (result.inbound.lead, result.inbound.matched_by) == (lead, "recipient")
    assert Lead.objects.get(pk=lead.pk).email_invalid


def test_delayed_delivery_only_says_so(lead, enrollment):
    raw = dsn(status="4.4.1", action="delayed", original_msgid=touch_msgid(enrollment.sent_touch))

    result = inbound_email_receive(raw, via="imap")

    assert result.inbound.kind == "delay"
    lead.refresh_from_db()
    assert not lead.email_invalid
    assert LeadEvent.objects.filter(lead=lead, text="Delivery delayed (4.4.1); the mail server keeps retrying")
    assert Touch.objects.filter(enrollment=enrollment, status=TouchStatus.SKIPPED).count() == 0


# --- The command an MTA pipes into -----------------------------------------------------------------------------


def run_command(raw: bytes) -> str:
    out = io.StringIO()
    call_command("inbound_email", stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue().strip()


def test_command_reports_each_outcome(lead, enrollment):
    raw = gmail_reply(in_reply_to=touch_msgid(enrollment.sent_touch))

    assert run_command(raw) == f"matched lead {lead.pk} (reply, by in_reply_to)"
    assert run_command(raw) == "duplicate: already processed"
    assert run_command(gmail_reply(frm="stranger@example.net", msgid="<s@x>")) == (
        "unmatched: listed under Unmatched replies"
    )
    assert InboundEmail.objects.filter(via="command").count() == 2


def test_command_refuses_empty_input():
    with pytest.raises(CommandError) as info:
        run_command(b"  \r\n")
    assert info.value.returncode == 1
    assert not InboundEmail.objects.exists()

"""A rep answers a lead from the app (reactions.rep_messages): through dispatch, to the real fakes."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from cadences.models import Channel, Outcome, TouchStatus
from cadences.services import enrollment_start
from leads.models import Lead, LeadStatus
from messaging.models import Message
from messaging.suppressions import suppression_record
from reactions.rep_messages import rep_message_send
from tests.factories import CadenceFactory, CadenceStepFactory, LeadFactory, TouchFactory

# Three in the morning in New York: automated texts wait for the contact window; a rep's answer does not.
NIGHT_NY = dt.datetime(2026, 6, 3, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
def lead(rep):
    rep.last_name = "Archer"
    rep.save(update_fields=["last_name"])
    return LeadFactory(
        owner=rep, first_name="Dana", phone="+12125551234", email="dana@example.org", timezone="America/New_York"
    )


def send(capture, **kwargs):
    with capture(execute=True):
        return rep_message_send(**kwargs)


def test_email_arrives_from_the_rep_threaded_under_the_lead_last_message(
    lead, rep, smtp_server, django_capture_on_commit_callbacks
):
    Message.objects.create(
        direction="in", channel="email", lead=lead, to="replies@leadfollow.example", sender=lead.email,
        subject="Re: your quote", body="Is Tuesday fine?", status="received", message_id="<older@example.org>",
    )  # fmt: skip
    Message.objects.create(
        direction="in", channel="email", lead=lead, to="replies@leadfollow.example", sender=lead.email,
        subject="Re: your quote", body="Or Wednesday", status="received", message_id="<latest@example.org>",
    )  # fmt: skip

    touch = send(
        django_capture_on_commit_callbacks,
        lead=lead,
        by=rep,
        channel="email",
        subject="Re: your quote, {{ lead.first_name }}",
        body="Tuesday works, {{ lead.first_name }}.\n{{ rep.first_name }}",
    )

    [mail] = smtp_server.messages()
    assert mail["From"] == "Alice Archer <sales@leadfollow.example>"
    assert mail["To"] == "dana@example.org"
    assert mail["Subject"] == "Re: your quote, Dana"
    assert mail["In-Reply-To"] == "<latest@example.org>"
    assert mail["References"] == "<latest@example.org>"
    assert mail["Message-ID"] == f"<touch-{touch.pk}@leadfollow.example>"
    assert mail["List-Unsubscribe"]
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Tuesday works, Dana.\nAlice")
    assert "Unsubscribe:" in text
    touch.refresh_from_db()
    assert (touch.status, touch.automated, touch.enrollment_id, touch.assigned_to) == (
        TouchStatus.SENT,
        True,
        None,
        rep,
    )
    sent = Message.objects.get(touch=touch)
    assert sent.message_id == f"<touch-{touch.pk}@leadfollow.example>"
    assert sent.direction == "out" and sent.subject == "Re: your quote, Dana"


def test_rep_name_cannot_inject_headers(lead, rep, smtp_server, django_capture_on_commit_callbacks):
    rep.first_name, rep.last_name = "Alice\r\nBcc: x@evil.example", "Ré"
    rep.save()
    send(django_capture_on_commit_callbacks, lead=lead, by=rep, channel="email", subject="Hi", body="Hello")
    [mail] = smtp_server.messages()
    assert mail["Bcc"] is None
    assert str(mail["From"]) == '"Alice Bcc: x@evil.example Ré" <sales@leadfollow.example>'


@time_machine.travel(NIGHT_NY, tick=True)
def test_sms_reaches_twilio_once_even_at_night(lead, rep, fake_twilio, django_capture_on_commit_callbacks):
    touch = send(django_capture_on_commit_callbacks, lead=lead, by=rep, channel="sms", body="Hi {{ lead.first_name }}")

    [texted] = fake_twilio.messages()
    assert (texted["to"], texted["body"]) == ("+12125551234", "Hi Dana")
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT and touch.provider_message_id == texted["sid"]
    assert Message.objects.filter(touch=touch, direction="out").count() == 1


def test_a_closed_lead_may_still_be_answered(lead, rep, fake_twilio, django_capture_on_commit_callbacks):
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.LOST)
    send(django_capture_on_commit_callbacks, lead=lead, by=rep, channel="sms", body="Thanks for writing back")
    assert len(fake_twilio.messages()) == 1


@pytest.mark.parametrize(
    ("change", "channel", "message"),
    [
        ({"sms_opt_out": True}, "sms", "Opted out of SMS"),
        ({"email_opt_out": True}, "email", "Unsubscribed from email"),
        ({"email_invalid": True}, "email", "Email address bounced"),
        ({"phone": ""}, "sms", "No phone number"),
        ({"email": ""}, "email", "No email address"),
        ({"sms_unusable": True}, "sms", "Number cannot receive SMS"),
    ],
)
def test_refused_when_the_lead_cannot_receive_it(lead, rep, change, channel, message):
    Lead.objects.filter(pk=lead.pk).update(**change)
    with pytest.raises(ValidationError, match=message):
        rep_message_send(lead=lead, by=rep, channel=channel, subject="Hi", body="Hello")
    assert not lead.touches.exists()


def test_refused_when_the_number_opted_out_on_another_lead(lead, rep):
    suppression_record(channel="sms", address=lead.phone, opted_out=True, source="SMS keyword STOP")
    with pytest.raises(ValidationError, match="pted out"):
        rep_message_send(lead=lead, by=rep, channel="sms", body="Hello")


def test_unknown_merge_field_refused(lead, rep):
    with pytest.raises(ValidationError) as caught:
        rep_message_send(lead=lead, by=rep, channel="email", subject="Hi", body="Hi {{ lead.nickname }}")
    assert caught.value.message_dict == {"body": ["Unknown merge field {{ lead.nickname }}"]}


def test_email_needs_a_subject(lead, rep):
    with pytest.raises(ValidationError) as caught:
        rep_message_send(lead=lead, by=rep, channel="email", subject=" ", body="Hello")
    assert "subject" in caught.value.message_dict


def test_a_rep_of_another_team_is_refused(lead, other_rep, teammate):
    for user in (other_rep, teammate):
        with pytest.raises(PermissionDenied):
            rep_message_send(lead=lead, by=user, channel="sms", body="Hello")
    assert not lead.touches.exists()


def test_completing_a_manual_email_step_by_sending_counts_one_attempt_and_advances(
    lead, rep, smtp_server, django_capture_on_commit_callbacks
):
    cadence = CadenceFactory()
    CadenceStepFactory(cadence=cadence, day=0, send_hour=None, channel=Channel.EMAIL, subject="Hi", body="Hello")
    CadenceStepFactory(cadence=cadence, day=1, channel=Channel.CALL)
    enrollment = enrollment_start(lead=lead, cadence=cadence)
    step_task, call = enrollment.touches.order_by("step__day")
    assert (step_task.status, call.status) == (TouchStatus.SCHEDULED, TouchStatus.PENDING)

    touch = send(
        django_capture_on_commit_callbacks,
        lead=lead,
        by=rep,
        channel="email",
        subject="Hi",
        body="Hello",
        task=step_task,
    )

    step_task.refresh_from_db()
    call.refresh_from_db()
    lead.refresh_from_db()
    assert (step_task.status, step_task.outcome, step_task.completed_by) == (TouchStatus.DONE, Outcome.SENT, rep)
    assert call.status == TouchStatus.SCHEDULED  # released: the cadence went on
    assert lead.attempt_count == 1  # the step's attempt; the rep's email itself is no second one
    assert lead.status == LeadStatus.WORKING
    assert len(smtp_server.messages()) == 1
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT


def test_a_task_of_someone_else_is_refused(lead, rep, teammate):
    task = TouchFactory(lead=lead, channel=Channel.SMS, assigned_to=rep)
    other_lead = LeadFactory(owner=teammate)
    with pytest.raises(PermissionDenied):
        rep_message_send(lead=other_lead, by=teammate, channel="sms", body="Hello", task=task)


@time_machine.travel(NIGHT_NY, tick=True)
def test_a_text_refused_for_good_gives_its_writer_an_urgent_task(
    lead, manager, fake_twilio, django_capture_on_commit_callbacks
):
    """Alice's manager wrote it: the task goes to who wrote it, not to the lead's owner."""
    fake_twilio.fail_number(lead.phone, 21211)

    touch = send(django_capture_on_commit_callbacks, lead=lead, by=manager, channel="sms", body="Hello")

    touch.refresh_from_db()
    assert touch.status == TouchStatus.FAILED
    # (beside the done task that logged the attempt)
    [task] = lead.touches.filter(automated=False, status=TouchStatus.SCHEDULED)
    assert task.assigned_to == manager and task.urgent
    assert task.title.startswith("Your text did not go out")


def test_a_real_reply_through_the_inbound_entry_point_is_what_the_rep_answers(
    lead, rep, smtp_server, django_capture_on_commit_callbacks
):
    """Our email, the lead's reply as raw RFC 5322 bytes (reactions.inbound_email), the rep's answer:
    one thread, and the conversation reads out, in, out."""
    from messaging.selectors import conversation_for
    from reactions.inbound_email import inbound_email_receive

    first = send(django_capture_on_commit_callbacks, lead=lead, by=rep, channel="email", subject="Quote", body="Hi")
    raw = (
        "From: Dana <dana@example.org>\r\n"
        "To: replies@leadfollow.example\r\n"
        "Subject: Re: Quote\r\n"
        "Message-ID: <reply-1@example.org>\r\n"
        f"In-Reply-To: <touch-{first.pk}@leadfollow.example>\r\n"
        "Date: Wed, 03 Jun 2026 16:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Is Tuesday fine?\r\n"
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        inbound_email_receive(raw, via="command")

    send(django_capture_on_commit_callbacks, lead=lead, by=rep, channel="email", subject="Re: Quote", body="Yes!")

    answer = smtp_server.messages()[-1]
    assert answer["In-Reply-To"] == "<reply-1@example.org>"
    items, _ = conversation_for(lead=lead)
    assert [(m.direction, m.body.split("\n")[0]) for m in items] == [
        ("out", "Hi"),
        ("in", "Is Tuesday fine?"),
        ("out", "Yes!"),
    ]


def test_an_answer_from_the_lead_page_does_the_reply_task_and_counts_one_attempt(
    lead, rep, smtp_server, django_capture_on_commit_callbacks
):
    from cadences.models import Touch
    from cadences.services import task_create

    reply_task = task_create(lead=lead, title="Reply received — answer now", channel=Channel.EMAIL, urgent=True)
    send(django_capture_on_commit_callbacks, lead=lead, by=rep, channel="email", subject="Re: hi", body="Sure.")
    reply_task.refresh_from_db()
    lead.refresh_from_db()
    assert (reply_task.status, reply_task.outcome) == (TouchStatus.DONE, Outcome.SENT)  # Today moves on
    assert lead.attempt_count == 1 and lead.first_response_at is not None
    assert not Touch.objects.open_tasks().filter(lead=lead).exists()
    assert len(smtp_server.messages()) == 1


def test_a_text_with_no_task_open_is_an_attempt_of_its_own(lead, rep, fake_twilio, django_capture_on_commit_callbacks):
    send(django_capture_on_commit_callbacks, lead=lead, by=rep, channel="sms", body="Quick question, Dana?")
    lead.refresh_from_db()
    assert lead.attempt_count == 1 and lead.first_response_at is not None
    logged = lead.touches.get(automated=False)
    assert (logged.status, logged.outcome, logged.channel) == (TouchStatus.DONE, Outcome.SENT, Channel.SMS)


@pytest.mark.django_db(transaction=True)
def test_two_posts_of_one_form_at_once_make_one_touch(lead, rep, monkeypatch, django_capture_on_commit_callbacks):
    """The second post's look-up ran before the first committed: the unique key decides, and the
    second answers with the first's touch, its own writes (an attempt, a task) rolled back."""
    import uuid

    from reactions import rep_messages

    key = uuid.uuid4()
    first = rep_message_send(lead=lead, by=rep, channel="sms", body="Quote attached", key=key)
    real, calls = rep_messages.rep_message_sent_before, []

    def too_early_then_real(**kwargs):
        calls.append(kwargs["key"])
        return None if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(rep_messages, "rep_message_sent_before", too_early_then_real)
    with django_capture_on_commit_callbacks(execute=False) as handed_over:
        again = rep_message_send(lead=lead, by=rep, channel="sms", body="Quote attached", key=key)

    assert again.pk == first.pk and calls == [key, key]
    assert handed_over == []  # nothing more for the workers
    lead.refresh_from_db()
    assert lead.attempt_count == 1
    assert lead.touches.filter(send_key=key).count() == 1
    assert lead.touches.filter(automated=False, outcome=Outcome.SENT).count() == 1


def test_a_key_already_used_for_another_lead_is_refused_and_sends_nothing(lead, rep):
    import uuid

    key = uuid.uuid4()
    rep_message_send(lead=lead, by=rep, channel="sms", body="Quote attached", key=key)
    other = LeadFactory(owner=rep, phone="+12125550199")
    with pytest.raises(ValidationError, match="sent already"):
        rep_message_send(lead=other, by=rep, channel="sms", body="Quote attached", key=key)
    assert not other.touches.exists()

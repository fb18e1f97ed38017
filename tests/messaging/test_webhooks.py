"""Twilio webhooks: signed inbound SMS (keywords, replies, unknown numbers, duplicates) and status callbacks."""

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from cadences.models import Enrollment, Touch, TouchStatus
from leads.models import Lead, LeadEvent, LeadStatus
from messaging.models import Message, OptOut
from tests.factories import CadenceFactory, CadenceStepFactory, EnrollmentFactory, LeadFactory, TouchFactory

TOKEN = "test-auth-token-0123456789abcdef"
BASE = "https://crm.example.com"
SMS_URL = "/webhooks/twilio/sms/"
STATUS_URL = "/webhooks/twilio/status/"
LEAD_PHONE = "+14155550123"
OUR_NUMBER = "+15005550006"


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = BASE
    settings.TWILIO_ACCOUNT_SID = ""  # replies go through TwiML, nothing is sent from here


def signed_post(client, path, params, *, token=TOKEN, url=None, **extra):
    signature = RequestValidator(token).compute_signature(url or f"{BASE}{path}", params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature, **extra)


_sid = iter(range(10**6))


def inbound(client, body, *, from_=LEAD_PHONE, sid=None):
    params = {
        "MessageSid": sid or f"SM{next(_sid):032d}",
        "AccountSid": "AC" + "1" * 32,
        "From": from_,
        "To": OUR_NUMBER,
        "Body": body,
    }
    return signed_post(client, SMS_URL, params)


@pytest.fixture
def lead(rep):
    return LeadFactory(owner=rep, phone=LEAD_PHONE, first_name="Pat", timezone="America/Los_Angeles")


@pytest.fixture
def enrolled(lead):
    cadence = CadenceFactory()
    enrollment = EnrollmentFactory(lead=lead, cadence=cadence)
    sms_step = CadenceStepFactory(cadence=cadence, channel="sms", automated=True, body="Hi")
    email_step = CadenceStepFactory(cadence=cadence, channel="email", automated=True, body="Hi")
    later = timezone.now() + timezone.timedelta(days=1)
    sms = TouchFactory(lead=lead, enrollment=enrollment, step=sms_step, channel="sms", automated=True, due_at=later)
    email = TouchFactory(
        lead=lead, enrollment=enrollment, step=email_step, channel="email", automated=True, due_at=later
    )
    return enrollment, sms, email


# --- Signature ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_missing_or_wrong_signature_is_rejected_and_nothing_saved(client, lead):
    params = {"MessageSid": "SM" + "9" * 32, "From": LEAD_PHONE, "To": OUR_NUMBER, "Body": "STOP"}
    assert client.post(SMS_URL, params).status_code == 403
    assert signed_post(client, SMS_URL, params, token="not-the-token").status_code == 403
    # Signed for another URL (what a naive check of the internal http://testserver URL would accept).
    assert signed_post(client, SMS_URL, params, url=f"http://testserver{SMS_URL}").status_code == 403
    tampered = dict(params, Body="hello")
    sig = RequestValidator(TOKEN).compute_signature(f"{BASE}{SMS_URL}", params)
    assert client.post(SMS_URL, tampered, HTTP_X_TWILIO_SIGNATURE=sig).status_code == 403
    assert client.post(STATUS_URL, {"MessageSid": "SMx", "MessageStatus": "delivered"}).status_code == 403
    assert Message.objects.count() == 0 and OptOut.objects.count() == 0
    lead.refresh_from_db()
    assert not lead.sms_opt_out


@pytest.mark.django_db
def test_no_auth_token_configured_rejects_everything(client, settings, lead):
    settings.TWILIO_AUTH_TOKEN = ""
    params = {"MessageSid": "SM" + "8" * 32, "From": LEAD_PHONE, "Body": "hi"}
    sig = RequestValidator("").compute_signature(f"{BASE}{SMS_URL}", params)
    assert client.post(SMS_URL, params, HTTP_X_TWILIO_SIGNATURE=sig).status_code == 403
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_signature_uses_public_base_url_behind_a_proxy(client, settings, lead):
    settings.PUBLIC_BASE_URL = "https://public.example.org/crm"
    params = {"MessageSid": "SM" + "7" * 32, "From": LEAD_PHONE, "To": OUR_NUMBER, "Body": "hi there"}
    sig = RequestValidator(TOKEN).compute_signature(f"https://public.example.org/crm{SMS_URL}", params)
    response = client.post(SMS_URL, params, HTTP_X_TWILIO_SIGNATURE=sig)
    assert response.status_code == 200
    assert Message.objects.filter(direction="in", lead=lead).count() == 1


@pytest.mark.django_db
def test_get_is_not_allowed(client):
    assert client.get(SMS_URL).status_code == 405


# --- Keywords -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "word", ["STOP", "stop", "  Stop \n", "STOPALL", "unsubscribe", "Cancel", "END", "quit", "REVOKE", "optout"]
)
def test_opt_out_keywords(client, enrolled, lead, word):
    enrollment, sms, email = enrolled
    response = inbound(client, word)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Response/>" in response.content
    lead.refresh_from_db()
    assert lead.sms_opt_out
    [record] = OptOut.objects.filter(lead=lead)
    assert record.channel == "sms" and record.opted_out and record.source == "SMS keyword STOP"
    sms.refresh_from_db(), email.refresh_from_db(), enrollment.refresh_from_db()
    assert sms.status in (TouchStatus.SKIPPED, TouchStatus.CANCELLED) and sms.failure_reason
    assert enrollment.state == Enrollment.State.EXITED and enrollment.exit_reason == "opted out"
    assert lead.events.filter(kind=LeadEvent.Kind.OPT_OUT).exists()
    assert lead.events.filter(kind=LeadEvent.Kind.MESSAGE_IN).exists()
    # A keyword is not a conversation: no urgent "call now" task.
    assert not Touch.objects.filter(lead=lead, urgent=True).exists()


@pytest.mark.django_db
def test_stop_inside_a_sentence_is_a_reply_not_an_opt_out(client, lead):
    inbound(client, "please don't stop calling me")
    lead.refresh_from_db()
    assert not lead.sms_opt_out
    assert Touch.objects.filter(lead=lead, urgent=True).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_opt_back_in(client, lead, word):
    inbound(client, "STOP")
    inbound(client, word)
    lead.refresh_from_db()
    assert not lead.sms_opt_out
    assert list(OptOut.objects.filter(lead=lead).order_by("id").values_list("opted_out", flat=True)) == [True, False]


@pytest.mark.django_db
def test_start_when_not_opted_out_records_nothing(client, lead):
    inbound(client, "START")
    assert OptOut.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["HELP", "info "])
def test_help_replies_with_twiml(client, settings, lead, word):
    settings.ORGANIZATION_NAME = "Acme & Sons"
    response = inbound(client, word)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    text = response.content.decode()
    assert "<Response><Message>" in text and "Acme &amp; Sons" in text and "STOP" in text
    assert not Touch.objects.filter(lead=lead, urgent=True).exists()


# --- Replies, unknown numbers, duplicates ------------------------------------------------------------------------


@pytest.mark.django_db
def test_reply_is_on_timeline_exits_cadence_and_creates_urgent_task(client, enrolled, lead, rep):
    enrollment, sms, email = enrolled
    response = inbound(client, "Yes I'm interested, call me after 3")
    assert response.status_code == 200 and b"<Response/>" in response.content
    [message] = Message.objects.filter(direction="in")
    assert message.lead == lead and message.status == Message.Status.RECEIVED
    assert message.body == "Yes I'm interested, call me after 3" and message.sender == LEAD_PHONE
    assert lead.events.filter(kind=LeadEvent.Kind.MESSAGE_IN, text__contains="call me after 3").exists()
    enrollment.refresh_from_db(), sms.refresh_from_db(), email.refresh_from_db()
    assert enrollment.state == Enrollment.State.EXITED and enrollment.exit_reason == "replied"
    assert sms.status == email.status == TouchStatus.CANCELLED
    [task] = Touch.objects.filter(lead=lead, urgent=True)
    assert task.title == "Reply received — call now" and task.assigned_to == rep and not task.automated
    from accounts.models import Notification

    assert Notification.objects.filter(user=rep, lead=lead, text__contains="replied").exists()


@pytest.mark.django_db
def test_reply_goes_to_latest_open_lead_with_the_number(client, rep):
    closed = LeadFactory(owner=rep, phone=LEAD_PHONE, status=LeadStatus.LOST)
    open_lead = LeadFactory(owner=rep, phone=LEAD_PHONE, created_at=timezone.now() - timezone.timedelta(days=9))
    inbound(client, "hello again")
    assert Message.objects.get(direction="in").lead == open_lead
    assert not closed.messages.exists()


@pytest.mark.django_db
def test_reply_from_a_closed_lead_lands_on_its_latest_lead(client, rep):
    old = LeadFactory(owner=rep, phone=LEAD_PHONE, status=LeadStatus.LOST)
    inbound(client, "still there?")
    assert Message.objects.get(direction="in").lead == old
    assert Lead.objects.count() == 1


@pytest.mark.django_db
def test_unknown_number_creates_a_lead(client):
    response = inbound(client, "Do you do kitchen remodels?", from_="+13125550199")
    assert response.status_code == 200
    lead = Lead.objects.get(phone="+13125550199")
    assert lead.first_name == "SMS" and lead.source.name == "SMS inbound"
    assert lead.messages.get(direction="in").body == "Do you do kitchen remodels?"
    assert lead.events.filter(kind=LeadEvent.Kind.INQUIRY).exists()
    assert lead.events.filter(kind=LeadEvent.Kind.MESSAGE_IN).exists()
    # One call to make: the cadence's call-now task, no second "reply received" task.
    assert Touch.objects.open_tasks().filter(lead=lead, channel="call").count() == 1


@pytest.mark.django_db
def test_stop_from_unknown_number_records_message_but_no_lead(client):
    inbound(client, "STOP", from_="+13125550198")
    assert Lead.objects.count() == 0
    assert Message.objects.filter(direction="in", lead=None).count() == 1


@pytest.mark.django_db
def test_duplicate_delivery_is_processed_once(client, lead):
    sid = "SM" + "d" * 32
    for _ in range(3):
        assert inbound(client, "call me", sid=sid).status_code == 200
    assert Message.objects.filter(direction="in").count() == 1
    assert Touch.objects.filter(lead=lead, urgent=True).count() == 1
    assert lead.events.filter(kind=LeadEvent.Kind.MESSAGE_IN).count() == 1


@pytest.mark.django_db
def test_duplicate_unknown_number_creates_one_lead(client):
    sid = "SM" + "e" * 32
    inbound(client, "hi", sid=sid, from_="+13125550197")
    inbound(client, "hi", sid=sid, from_="+13125550197")
    assert Lead.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("sid_fields", [{}, {"MessageSid": ""}, {"MessageSid": "  ", "SmsSid": ""}])
def test_a_signed_inbound_sms_without_a_message_sid_is_refused_on_every_delivery(client, lead, sid_fields):
    """Regression (issue 15): an empty MessageSid was processed again on every delivery."""
    params = {"AccountSid": "AC" + "1" * 32, "From": LEAD_PHONE, "To": OUR_NUMBER, "Body": "call me", **sid_fields}
    for _ in range(2):  # the same signed request, redelivered
        response = signed_post(client, SMS_URL, params)
        assert response.status_code == 400
        assert b"MessageSid" in response.content
    assert not Message.objects.exists()
    assert not Touch.objects.filter(lead=lead, urgent=True).exists()
    assert not lead.events.filter(kind=LeadEvent.Kind.MESSAGE_IN).exists()
    # The signature is still checked first: unsigned, it is a 403 like any other forgery.
    assert client.post(SMS_URL, params).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_duplicate_race_on_the_unique_constraint_rolls_back_cleanly(rep):
    """The first check misses (a concurrent delivery): the constraint stops the second one."""
    from reactions import inbound_sms as services

    lead = LeadFactory(owner=rep, phone=LEAD_PHONE)
    sid = "SM" + "f" * 32
    services.inbound_sms_receive(sid=sid, from_number=LEAD_PHONE, to_number=OUR_NUMBER, body="hello")
    original = Message.objects.filter
    calls = {"n": 0}

    class Blind:
        def exists(self):
            return False

    def filter_(*args, **kwargs):
        if kwargs.get("provider_message_id") == sid and calls["n"] == 0:
            calls["n"] += 1
            return Blind()
        return original(*args, **kwargs)

    Message.objects.filter = filter_
    try:
        result = services.inbound_sms_receive(sid=sid, from_number=LEAD_PHONE, to_number=OUR_NUMBER, body="hello")
    finally:
        del Message.objects.filter
    assert result.duplicate
    assert Message.objects.filter(direction="in").count() == 1
    assert Touch.objects.filter(lead=lead, urgent=True).count() == 1


# --- Status callbacks ------------------------------------------------------------------------------------------


@pytest.fixture
def sent_sms(lead):
    sid = "SM" + "a" * 32
    touch = TouchFactory(
        lead=lead, channel="sms", automated=True, status=TouchStatus.SENT, provider_message_id=sid, title="Day 0 SMS"
    )
    message = Message.objects.create(
        direction="out",
        channel="sms",
        lead=lead,
        touch=touch,
        to=LEAD_PHONE,
        body="Hi",
        provider_message_id=sid,
        status=Message.Status.SENT,
    )
    return sid, touch, message


def status(client, sid, state, code=""):
    params = {"MessageSid": sid, "MessageStatus": state, "AccountSid": "AC" + "1" * 32}
    if code:
        params["ErrorCode"] = code
    return signed_post(client, STATUS_URL, params)


@pytest.mark.django_db
def test_delivered_updates_message_touch_and_timeline(client, sent_sms, lead):
    sid, touch, message = sent_sms
    assert status(client, sid, "delivered").status_code < 300
    message.refresh_from_db(), touch.refresh_from_db()
    assert message.status == Message.Status.DELIVERED and touch.status == TouchStatus.DELIVERED
    assert lead.events.filter(kind=LeadEvent.Kind.MESSAGE_OUT, text__contains="delivered").count() == 1


@pytest.mark.django_db
def test_out_of_order_sent_after_delivered_changes_nothing(client, sent_sms, lead):
    sid, touch, message = sent_sms
    status(client, sid, "delivered")
    status(client, sid, "sent")
    status(client, sid, "delivered")  # repeated
    message.refresh_from_db(), touch.refresh_from_db()
    assert message.status == Message.Status.DELIVERED and touch.status == TouchStatus.DELIVERED
    assert lead.events.filter(text__contains="delivered").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["30006", "30003", "30005", "21614"])
def test_permanent_failure_marks_number_unusable_and_creates_call_task(client, sent_sms, lead, code):
    sid, touch, message = sent_sms
    assert status(client, sid, "undelivered", code).status_code < 300
    message.refresh_from_db(), touch.refresh_from_db(), lead.refresh_from_db()
    assert message.status == Message.Status.UNDELIVERED and message.error_code == code
    assert touch.status == TouchStatus.FAILED and code in touch.failure_reason
    assert lead.sms_unusable
    [task] = Touch.objects.filter(lead=lead, channel="call", automated=False)
    assert "call" in task.title.lower()
    assert lead.events.filter(kind=LeadEvent.Kind.TOUCH, text__contains="failed").exists()


@pytest.mark.django_db
def test_carrier_opt_out_code_records_opt_out(client, sent_sms, lead):
    sid, touch, message = sent_sms
    status(client, sid, "failed", "21610")
    lead.refresh_from_db()
    assert lead.sms_opt_out


@pytest.mark.django_db
def test_temporary_failure_fails_touch_without_flagging_number(client, sent_sms, lead):
    sid, touch, message = sent_sms
    status(client, sid, "failed", "30008")
    message.refresh_from_db(), touch.refresh_from_db(), lead.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.error_code == "30008"
    assert touch.status == TouchStatus.FAILED
    assert not lead.sms_unusable
    assert lead.events.filter(kind=LeadEvent.Kind.MESSAGE_OUT, text__contains="30008").exists()


@pytest.mark.django_db
def test_unknown_sid_is_ignored_with_success(client, lead):
    assert status(client, "SM" + "0" * 32, "delivered").status_code < 300
    assert LeadEvent.objects.count() == 0

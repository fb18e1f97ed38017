"""SMS through the real twilio library to the fake Twilio API on 127.0.0.1, and the dev outbox."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from messaging import transports
from messaging.models import Message
from messaging.providers.twilio_sms import twilio_client
from messaging.transports import OutgoingMessage, TransportError
from tests import factories

LEAD_PHONE = "+14155550123"


def sms(to=LEAD_PHONE, body="Hi Pat, it's Alice from LeadFollow.", **kwargs):
    return OutgoingMessage(channel="sms", to=to, body=body, **kwargs)


class CommitPoint:
    """A commit_point callback that records when it ran and what the provider had at that moment."""

    def __init__(self, fake=None, returns=True):
        self.fake = fake
        self.returns = returns
        self.calls = 0
        self.provider_count_at_call = None

    def __call__(self):
        self.calls += 1
        if self.fake is not None:
            self.provider_count_at_call = len(self.fake.messages())
        return self.returns


def test_accepted_sms_returns_sid_and_commits_after_acceptance(fake_twilio, settings):
    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    commit = CommitPoint(fake_twilio)

    result = transports.send(sms(), commit_point=commit)

    assert result.status == "queued"
    assert result.provider_message_id.startswith("SM") and len(result.provider_message_id) == 34
    (accepted,) = fake_twilio.messages()
    assert accepted["sid"] == result.provider_message_id
    assert accepted["to"] == LEAD_PHONE
    assert accepted["from"] == settings.TWILIO_FROM_NUMBER
    assert accepted["body"] == "Hi Pat, it's Alice from LeadFollow."
    assert accepted["status_callback"] == "https://crm.example.com/webhooks/twilio/status/"
    # The commit point ran once, after Twilio had the message.
    assert commit.calls == 1
    assert commit.provider_count_at_call == 1


def test_messaging_service_sid_when_no_from_number(fake_twilio, settings):
    settings.TWILIO_FROM_NUMBER = ""
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "a" * 32

    transports.send(sms(), commit_point=CommitPoint())

    (accepted,) = fake_twilio.messages()
    assert accepted["messaging_service_sid"] == "MG" + "a" * 32
    assert accepted["from"] is None


def test_lost_claim_after_acceptance_still_returns_the_result(fake_twilio):
    commit = CommitPoint(returns=False)

    result = transports.send(sms(), commit_point=commit)

    assert commit.calls == 1
    assert result.provider_message_id == fake_twilio.messages()[0]["sid"]


@pytest.mark.parametrize(
    "number, code",
    [("+15005550001", "21211"), ("+15005550004", "21610"), ("+15005550009", "21614"), ("+15005550002", "21612")],
)
def test_permanent_twilio_errors(fake_twilio, number, code):
    commit = CommitPoint()

    with pytest.raises(TransportError) as info:
        transports.send(sms(to=number), commit_point=commit)

    assert info.value.permanent is True
    assert info.value.code == code
    assert info.value.after_commit is False
    assert commit.calls == 0
    assert fake_twilio.messages() == []


def test_custom_number_error(fake_twilio):
    fake_twilio.fail_number(LEAD_PHONE, 21211)

    with pytest.raises(TransportError) as info:
        transports.send(sms(), commit_point=CommitPoint())

    assert (info.value.permanent, info.value.code) == (True, "21211")
    assert LEAD_PHONE in info.value.reason


def test_server_error_is_temporary(fake_twilio):
    fake_twilio.fail_next(1, status=500)
    commit = CommitPoint()

    with pytest.raises(TransportError) as info:
        transports.send(sms(), commit_point=commit)

    assert info.value.permanent is False
    assert commit.calls == 0
    assert fake_twilio.messages() == []
    # The outage is over: the retry goes through.
    transports.send(sms(), commit_point=commit)
    assert len(fake_twilio.messages()) == 1


def test_rate_limit_is_temporary_with_retry_after(fake_twilio):
    fake_twilio.rate_limit_next(1, retry_after=7)

    with pytest.raises(TransportError) as info:
        transports.send(sms(), commit_point=CommitPoint())

    assert info.value.permanent is False
    assert info.value.code == "rate_limited"
    assert info.value.retry_after == 7.0


def test_rate_limit_without_retry_after(fake_twilio):
    fake_twilio.rate_limit_next(1, retry_after=None)

    with pytest.raises(TransportError) as info:
        transports.send(sms(), commit_point=CommitPoint())

    assert (info.value.permanent, info.value.retry_after) == (False, None)


def test_bad_credentials_are_temporary(fake_twilio, settings):
    settings.TWILIO_AUTH_TOKEN = "wrong"

    with pytest.raises(TransportError) as info:
        transports.send(sms(), commit_point=CommitPoint())

    assert info.value.permanent is False
    assert fake_twilio.messages() == []


@pytest.fixture
def short_twilio_timeout(settings):
    settings.TWILIO_TIMEOUT_SECONDS = 0.5


def test_timeout_is_temporary(fake_twilio, short_twilio_timeout):
    fake_twilio.hang_next(1, seconds=3)
    commit = CommitPoint()

    with pytest.raises(TransportError) as info:
        transports.send(sms(), commit_point=commit)

    assert info.value.permanent is False
    assert info.value.code == "timeout"
    assert commit.calls == 0


def test_timeout_after_twilio_accepted_is_found_and_committed(fake_twilio, short_twilio_timeout):
    """Twilio took the message but its answer was lost: no error, so no second text on retry."""
    fake_twilio.hang_next(1, seconds=3, accept=True)
    commit = CommitPoint()

    result = transports.send(sms(), commit_point=commit)

    (accepted,) = fake_twilio.messages()
    assert result.provider_message_id == accepted["sid"]
    assert commit.calls == 1


def test_provider_down_is_temporary(settings):
    from messaging.providers.twilio_sms import reset_client_cache
    from testkit.processes import free_port

    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC" + "0" * 32, "token"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{free_port('127.0.0.1')}"
    reset_client_cache()

    with pytest.raises(TransportError) as info:
        transports.send(sms(), commit_point=CommitPoint())

    assert info.value.permanent is False
    reset_client_cache()


def test_client_is_reused(fake_twilio):
    assert twilio_client() is twilio_client()


def test_lookup_sent_finds_an_accepted_message(fake_twilio):
    since = timezone.now()
    sent = transports.send(sms(), commit_point=CommitPoint())
    transports.send(sms(body="Another text"), commit_point=CommitPoint())

    found = transports.lookup_sent(sms(), since=since)

    assert found == transports.ProviderResult(provider_message_id=sent.provider_message_id, status="sent")
    # It asked Twilio with the library's list call.
    assert ("GET", f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json") in fake_twilio.requests


def test_lookup_sent_finds_a_message_still_queued(fake_twilio):
    fake_twilio.hold_in_queue()
    since = timezone.now()
    sent = transports.send(sms(), commit_point=CommitPoint())

    assert transports.lookup_sent(sms(), since=since).provider_message_id == sent.provider_message_id


def test_lookup_sent_none_for_an_unsent_message(fake_twilio):
    since = timezone.now()
    transports.send(sms(body="Something else"), commit_point=CommitPoint())
    transports.send(sms(to="+14155550199"), commit_point=CommitPoint())

    assert transports.lookup_sent(sms(), since=since) is None


def test_lookup_sent_ignores_the_same_text_sent_earlier(fake_twilio):
    transports.send(sms(), commit_point=CommitPoint())

    later = timezone.now() + datetime.timedelta(minutes=10)
    assert transports.lookup_sent(sms(), since=later) is None


def test_lookup_sent_looks_at_the_newest_50(fake_twilio):
    since = timezone.now()
    transports.send(sms(body="the one"), commit_point=CommitPoint())
    for i in range(60):
        transports.send(sms(body=f"newer {i}"), commit_point=CommitPoint())

    # A bounded question: an older text to the same number is out of reach.
    assert transports.lookup_sent(sms(body="the one"), since=since) is None
    assert transports.lookup_sent(sms(body="newer 10"), since=since) is not None


def test_fake_api_pages_like_twilio(fake_twilio):
    for i in range(45):
        transports.send(sms(body=f"text {i}"), commit_point=CommitPoint())

    listed = twilio_client().messages.list(to=LEAD_PHONE, page_size=20)

    assert [m.body for m in listed] == [f"text {i}" for i in reversed(range(45))]
    assert sum(1 for method, _ in fake_twilio.requests if method == "GET") == 3


# --- Outbox (no Twilio credentials) --------------------------------------------------------------------


@pytest.fixture
def no_twilio(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""


@pytest.fixture
def touch(db):
    return factories.TouchFactory(channel="sms", automated=True)


def test_outbox_keeps_the_message(no_twilio, touch):
    commit = CommitPoint()

    result = transports.send(sms(touch_id=touch.pk, lead_id=touch.lead_id), commit_point=commit)

    assert result.status == "outbox"
    message = Message.objects.get()
    assert message.provider_message_id == result.provider_message_id
    assert result.provider_message_id.startswith("OUTBOX-")
    assert (message.direction, message.channel, message.status) == ("out", "sms", "outbox")
    assert (message.lead_id, message.touch_id, message.to) == (touch.lead_id, touch.pk, LEAD_PHONE)
    assert message.body == "Hi Pat, it's Alice from LeadFollow."
    assert commit.calls == 1


def test_outbox_commit_point_runs_inside_the_message_transaction(no_twilio, touch):
    seen = {}

    def commit_point():
        seen["in_atomic"] = transaction.get_connection().in_atomic_block
        seen["rows"] = Message.objects.count()
        return True

    transports.send(sms(touch_id=touch.pk, lead_id=touch.lead_id), commit_point=commit_point)

    assert seen == {"in_atomic": True, "rows": 1}


def test_outbox_commit_point_raising_leaves_no_message(no_twilio, touch):
    def commit_point():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        transports.send(sms(touch_id=touch.pk, lead_id=touch.lead_id), commit_point=commit_point)

    assert Message.objects.count() == 0


def test_outbox_lost_claim_leaves_no_message(no_twilio, touch):
    with pytest.raises(TransportError) as info:
        transports.send(sms(touch_id=touch.pk, lead_id=touch.lead_id), commit_point=CommitPoint(returns=False))

    assert (info.value.code, info.value.permanent) == ("claim_lost", False)
    assert Message.objects.count() == 0


def test_outbox_lookup_sent(no_twilio, touch):
    since = timezone.now()
    message = sms(touch_id=touch.pk, lead_id=touch.lead_id)
    assert transports.lookup_sent(message, since=since) is None

    result = transports.send(message, commit_point=CommitPoint())

    assert transports.lookup_sent(message, since=since) == result
    assert transports.lookup_sent(sms(), since=since) is None  # no touch id: nothing to match


def test_unknown_channel():
    with pytest.raises(ValueError):
        transports.send(OutgoingMessage(channel="fax", to="x", body="y"), commit_point=CommitPoint())

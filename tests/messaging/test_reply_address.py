"""Reply-To tokens and our Message-IDs: what an inbound email is matched by (messaging/reply_address.py)."""

import email
import email.policy

import pytest
from django.core import mail
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from cadences.models import Channel
from messaging import transports
from messaging.dispatch import outgoing_message_for
from messaging.reply_address import (
    lead_id_for_address,
    reply_to_for,
    reply_token_for,
    touch_id_for_message_id,
)
from tests import factories


@pytest.fixture(autouse=True)
def _addresses(settings):
    settings.DEFAULT_FROM_EMAIL = "LeadFollow <sales@leadfollow.example>"
    settings.REPLY_TO_ADDRESS = "replies@leadfollow.example"


def test_reply_to_shape_and_round_trip():
    address = reply_to_for(42)
    assert address.startswith("replies+") and address.endswith("@leadfollow.example")
    assert address == address.lower()
    assert lead_id_for_address(address) == 42


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_token_round_trips_for_any_id_in_any_case(lead_id):
    address = reply_to_for(lead_id)
    assert lead_id_for_address(address) == lead_id
    # Some MTAs change the case of local parts; a display name may come along.
    assert lead_id_for_address(address.upper()) == lead_id
    assert lead_id_for_address(f'"Sales" <{address}>') == lead_id


def test_forged_or_damaged_tokens_are_refused():
    good = reply_token_for(42)
    value, signature = good.split("-")
    other_value = reply_token_for(43).split("-")[0]
    flipped = signature[:-1] + ("a" if signature[-1] != "a" else "b")
    for token in [
        f"{other_value}-{signature}",  # another lead's id with lead 42's signature
        f"{value}-{flipped}",  # one character changed
        f"{value}-{signature[:-1]}",  # shortened
        value,  # no signature
        f"-{signature}",
        f"zz!-{signature}",
    ]:
        assert lead_id_for_address(f"replies+{token}@leadfollow.example") is None, token


def test_other_mailboxes_and_domains_are_not_tokens():
    token = reply_token_for(42)
    assert lead_id_for_address(f"replies+{token}@evil.example") is None
    assert lead_id_for_address(f"sales+{token}@leadfollow.example") is None
    assert lead_id_for_address("replies@leadfollow.example") is None
    assert lead_id_for_address("") is None
    assert lead_id_for_address("not an address") is None


def test_token_from_another_secret_is_refused_and_a_rotated_key_still_matches(settings):
    address = reply_to_for(42)
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    assert lead_id_for_address(address) is None
    settings.SECRET_KEY_FALLBACKS = ["dev-only-insecure-key-do-not-use-in-production"]
    settings.SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
    again = reply_to_for(42)
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    assert lead_id_for_address(again) == 42


def test_touch_message_ids_of_our_domain_only():
    assert touch_id_for_message_id("<touch-17@leadfollow.example>") == 17
    assert touch_id_for_message_id("  <touch-17@LeadFollow.Example> ") == 17
    assert touch_id_for_message_id("<touch-17@other.example>") is None
    assert touch_id_for_message_id("<CAF=abc@mail.gmail.com>") is None
    assert touch_id_for_message_id("") is None
    assert touch_id_for_message_id("<touch-x@leadfollow.example>") is None


@pytest.mark.django_db
def test_every_email_touch_carries_the_leads_reply_to(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    lead = factories.LeadFactory(owner=factories.UserFactory())
    touch = factories.TouchFactory(lead=lead, channel=Channel.EMAIL, automated=True, due_at=timezone.now())

    message = outgoing_message_for(touch)

    assert message.message_id == f"<touch-{touch.pk}@leadfollow.example>"
    assert lead_id_for_address(message.headers["Reply-To"]) == lead.pk
    assert touch_id_for_message_id(message.message_id) == touch.pk
    # On the wire: the header as the lead's mail client sees it.
    transports.send(message, commit_point=lambda: True)
    (sent,) = mail.outbox
    parsed = email.message_from_bytes(sent.message().as_bytes(), policy=email.policy.default)
    assert lead_id_for_address(str(parsed["Reply-To"])) == lead.pk
    assert parsed["Message-ID"] == message.message_id

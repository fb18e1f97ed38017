"""The fake Twilio API as a separate process (benchmarks, real workers): HTTP control endpoints."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from messaging import transports
from messaging.providers.twilio_sms import reset_client_cache
from messaging.transports import OutgoingMessage, TransportError
from testkit.fakes.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_twilio_process(settings):
    process = subprocess.Popen(
        [sys.executable, "-m", "testkit.fakes.twilio_api", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("listening on "), line
        url = line.split()[-1]
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
        settings.TWILIO_FROM_NUMBER = "+15005550006"
        settings.TWILIO_API_BASE_URL = url
        reset_client_cache()
        yield url
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        reset_client_cache()


def control(url, path, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    with urllib.request.urlopen(urllib.request.Request(url + path, data=data), timeout=5) as response:
        return json.loads(response.read())


def test_send_and_read_back_through_the_control_endpoint(fake_twilio_process):
    message = OutgoingMessage(channel="sms", to="+14155550123", body="Hello from a benchmark")

    result = transports.send(message, commit_point=lambda: True)

    (accepted,) = control(fake_twilio_process, "/_fake/messages")
    assert accepted["sid"] == result.provider_message_id
    assert accepted["body"] == "Hello from a benchmark"


def test_faults_through_the_control_endpoint(fake_twilio_process):
    message = OutgoingMessage(channel="sms", to="+14155550123", body="Hello")
    control(fake_twilio_process, "/_fake/faults", {"fail_next": {"count": 1, "status": 503}})

    with pytest.raises(TransportError) as info:
        transports.send(message, commit_point=lambda: True)
    assert info.value.permanent is False

    control(fake_twilio_process, "/_fake/faults", {"fail_numbers": {"+14155550123": 21610}})
    with pytest.raises(TransportError) as info:
        transports.send(message, commit_point=lambda: True)
    assert (info.value.permanent, info.value.code) == (True, "21610")

    control(fake_twilio_process, "/_fake/reset", {})
    transports.send(message, commit_point=lambda: True)
    assert len(control(fake_twilio_process, "/_fake/messages")) == 1

"""Fixtures for the fake providers (testkit.fakes); registered in tests/conftest.py (`pytest_plugins`).

`fake_twilio`: a fake Twilio REST API on 127.0.0.1 with settings pointing the real twilio
library at it. `smtp_server`: aiosmtpd on 127.0.0.1 with EMAIL_BACKEND set to the two-phase
SMTP backend. `imap_server`: a private, real dovecot on 127.0.0.1 with the REPLY_IMAP_* settings
pointing the reply-mailbox poller at it (skipped without dovecot, failed under REQUIRE_SERVICES=1).
All are fresh per test.
"""

import pytest

from testkit.fakes.imap_server import DovecotServer, dovecot_available
from testkit.fakes.smtp_server import FakeSMTPServer
from testkit.fakes.twilio_api import FakeTwilioAPI
from tests.services import require

FAKE_TWILIO_FROM_NUMBER = "+15005550006"


@pytest.fixture
def fake_twilio(settings):
    from messaging.providers.twilio_sms import reset_client_cache

    api = FakeTwilioAPI().start()
    settings.TWILIO_ACCOUNT_SID = api.account_sid
    settings.TWILIO_AUTH_TOKEN = api.auth_token
    settings.TWILIO_FROM_NUMBER = FAKE_TWILIO_FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE_URL = api.url
    reset_client_cache()
    try:
        yield api
    finally:
        api.stop()
        reset_client_cache()


@pytest.fixture
def smtp_server(settings):
    server = FakeSMTPServer().start()
    settings.EMAIL_BACKEND = "messaging.providers.smtp.TwoPhaseSMTPBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap_server(settings):
    require(dovecot_available(), "dovecot (Debian: dovecot-imapd)")
    server = DovecotServer().start()
    settings.REPLY_IMAP_HOST = server.host
    settings.REPLY_IMAP_PORT = server.port
    settings.REPLY_IMAP_USER = server.user
    settings.REPLY_IMAP_PASSWORD = server.password
    settings.REPLY_IMAP_SECURITY = "none"
    settings.REPLY_IMAP_FOLDER = "INBOX"
    settings.REPLY_IMAP_PROCESSED_FOLDER = "LeadFollow/Processed"
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def worker_env(postgres, redis_url, fake_twilio, smtp_server, settings):
    """Environment for a real worker process (tests/worker.py) to reach the fakes, with a 3 s lease
    so the reconciler acts within a test (here and in the worker)."""
    settings.CELERY_TASK_DEFAULT_QUEUE = "unused"
    settings.DISPATCH_LEASE_SECONDS = 3
    return {
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_FROM_NUMBER": settings.TWILIO_FROM_NUMBER,
        "TWILIO_API_BASE_URL": fake_twilio.url,
        "EMAIL_BACKEND": "messaging.providers.smtp.TwoPhaseSMTPBackend",
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port),
        "DISPATCH_LEASE_SECONDS": "3",
        "DISPATCH_BATCH_SIZE": "10",
    }

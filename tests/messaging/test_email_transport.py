"""Email through the two-phase SMTP backend to a real SMTP server (aiosmtpd) on 127.0.0.1."""

import pytest
from django.core import mail
from django.core.mail import get_connection
from django.utils import timezone

from messaging import transports
from messaging.providers.smtp import TwoPhaseSMTPBackend
from messaging.transports import OutgoingMessage, TransportError
from testkit.processes import free_port

LEAD_EMAIL = "pat@example.org"


def email(to=LEAD_EMAIL, message_id="<touch-42@leadfollow.example>", **kwargs):
    defaults = {
        "subject": "Your quote, Pat",
        "body": "Hi Pat,\n.a line that starts with a dot\n..and two\nAlice",
        "headers": {
            "List-Unsubscribe": "<https://crm.example.com/u/abc>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }
    return OutgoingMessage(channel="email", to=to, message_id=message_id, **{**defaults, **kwargs})


class CommitPoint:
    def __init__(self, server=None, returns=True):
        self.server, self.returns = server, returns
        self.calls = 0
        self.server_count_at_call = None

    def __call__(self):
        self.calls += 1
        if self.server is not None:
            self.server_count_at_call = len(self.server.messages())
        return self.returns


def test_backend_setting(smtp_server):
    assert isinstance(get_connection(), TwoPhaseSMTPBackend)


def test_delivered_with_message_id_and_headers(smtp_server, settings):
    commit = CommitPoint(smtp_server)

    result = transports.send(email(html_body="<p>Hi Pat</p>"), commit_point=commit)

    assert result == transports.ProviderResult(provider_message_id="<touch-42@leadfollow.example>", status="sent")
    (received,) = smtp_server.messages()
    assert received["Message-ID"] == "<touch-42@leadfollow.example>"
    assert received["To"] == LEAD_EMAIL
    assert received["From"] == settings.DEFAULT_FROM_EMAIL
    assert received["Subject"] == "Your quote, Pat"
    assert received["List-Unsubscribe"] == "<https://crm.example.com/u/abc>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = received.get_body(preferencelist=("plain",)).get_content()
    # Dot-stuffed on the wire, unstuffed by the server: the lines starting with dots survive.
    assert text.replace("\r\n", "\n").rstrip("\n") == "Hi Pat,\n.a line that starts with a dot\n..and two\nAlice"
    assert "<p>Hi Pat</p>" in received.get_body(preferencelist=("html",)).get_content()
    assert smtp_server.envelopes()[0][1] == [LEAD_EMAIL]
    assert commit.calls == 1


def test_commit_point_runs_before_the_server_accepts(smtp_server):
    commit = CommitPoint(smtp_server)

    transports.send(email(), commit_point=commit)

    assert commit.server_count_at_call == 0
    assert len(smtp_server.messages()) == 1


def test_lost_claim_delivers_nothing(smtp_server):
    with pytest.raises(TransportError) as info:
        transports.send(email(message_id="<touch-1@leadfollow.example>"), commit_point=CommitPoint(returns=False))

    assert (info.value.code, info.value.permanent, info.value.after_commit) == ("claim_lost", False, False)
    # The server dropped the unfinished DATA; the next message is the only one that arrives.
    transports.send(email(message_id="<touch-2@leadfollow.example>"), commit_point=CommitPoint())
    assert [m["Message-ID"] for m in smtp_server.messages()] == ["<touch-2@leadfollow.example>"]


def test_commit_point_raising_delivers_nothing(smtp_server):
    def commit_point():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        transports.send(email(message_id="<touch-1@leadfollow.example>"), commit_point=commit_point)

    transports.send(email(message_id="<touch-2@leadfollow.example>"), commit_point=CommitPoint())
    assert [m["Message-ID"] for m in smtp_server.messages()] == ["<touch-2@leadfollow.example>"]


@pytest.mark.parametrize("code", [550, 551, 553])
def test_rejected_recipient_is_a_hard_bounce(smtp_server, code):
    smtp_server.reject_recipient(LEAD_EMAIL, code)
    commit = CommitPoint()

    with pytest.raises(TransportError) as info:
        transports.send(email(), commit_point=commit)

    assert (info.value.permanent, info.value.code) == (True, "hard_bounce")
    assert str(code) in info.value.reason
    assert commit.calls == 0
    assert smtp_server.messages() == []


def test_other_permanent_rejection(smtp_server):
    smtp_server.reject_recipient(LEAD_EMAIL, 554, "5.7.1 Relay access denied")

    with pytest.raises(TransportError) as info:
        transports.send(email(), commit_point=CommitPoint())

    assert (info.value.permanent, info.value.code) == (True, "smtp_554")


@pytest.mark.parametrize("stage", ["mail", "rcpt"])
def test_temporary_rejection_before_the_commit_point(smtp_server, stage):
    smtp_server.temp_fail_next(1, code=421, stage=stage)
    commit = CommitPoint()

    with pytest.raises(TransportError) as info:
        transports.send(email(), commit_point=commit)

    assert (info.value.permanent, info.value.code, info.value.after_commit) == (False, "smtp_421", False)
    assert commit.calls == 0
    # The retry goes through.
    transports.send(email(), commit_point=commit)
    assert len(smtp_server.messages()) == 1


def test_temporary_rejection_of_the_data(smtp_server):
    smtp_server.temp_fail_next(1, code=451, stage="data")

    with pytest.raises(TransportError) as info:
        transports.send(email(), commit_point=CommitPoint())

    assert (info.value.permanent, info.value.code, info.value.after_commit) == (False, "smtp_451", True)
    assert smtp_server.messages() == []


def test_permanent_rejection_of_the_data(smtp_server):
    smtp_server.temp_fail_next(1, code=554, stage="data", text="5.6.0 Content rejected")

    with pytest.raises(TransportError) as info:
        transports.send(email(), commit_point=CommitPoint())

    assert (info.value.permanent, info.value.code, info.value.after_commit) == (True, "smtp_554", True)


def test_lost_reply_to_the_final_dot_is_never_retried(smtp_server, monkeypatch):
    """The dot went out but the reply did not come back: maybe delivered, so report it as permanent."""
    import smtplib

    committed = {"done": False}
    real_getreply = smtplib.SMTP.getreply

    def getreply(self):
        if committed["done"]:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real_getreply(self)

    monkeypatch.setattr(smtplib.SMTP, "getreply", getreply)

    def commit_point():
        committed["done"] = True
        return True

    with pytest.raises(TransportError) as info:
        transports.send(email(), commit_point=commit_point)

    assert (info.value.permanent, info.value.code, info.value.after_commit) == (True, "outcome_unknown", True)


def test_worker_killed_at_the_commit_point_delivers_nothing(smtp_server, tmp_path):
    """A process SIGKILLed inside commit_point (before the final dot): the server keeps nothing."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import os, signal, django; django.setup()\n"
        "from messaging import transports\n"
        "message = transports.OutgoingMessage(channel='email', to='pat@example.org', body='x' * 50000,"
        " subject='Hi', message_id='<touch-9@leadfollow.example>')\n"
        "transports.send(message, commit_point=lambda: os.kill(os.getpid(), signal.SIGKILL))\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadfollow.settings",
        "LEADFOLLOW_VAR_DIR": str(tmp_path),
        "EMAIL_BACKEND": "messaging.providers.smtp.TwoPhaseSMTPBackend",
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port),
    }
    env.pop("DATABASE_URL", None)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=root, timeout=60, capture_output=True)

    assert done.returncode == -9, done.stderr.decode()
    transports.send(email(message_id="<touch-10@leadfollow.example>"), commit_point=CommitPoint())
    assert [m["Message-ID"] for m in smtp_server.messages()] == ["<touch-10@leadfollow.example>"]


def test_server_down_is_temporary(settings):
    settings.EMAIL_BACKEND = "messaging.providers.smtp.TwoPhaseSMTPBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port("127.0.0.1"), 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    commit = CommitPoint()

    with pytest.raises(TransportError) as info:
        transports.send(email(), commit_point=commit)

    assert (info.value.permanent, info.value.code) == (False, "smtp_connect")
    assert commit.calls == 0


def test_header_injection_is_refused_before_anything(smtp_server):
    commit = CommitPoint()

    with pytest.raises(TransportError) as info:
        transports.send(email(subject="Hi\nBcc: victim@example.com"), commit_point=commit)

    assert (info.value.permanent, info.value.code) == (True, "invalid_message")
    assert commit.calls == 0


def test_lookup_sent_is_none_for_email(smtp_server):
    since = timezone.now()
    transports.send(email(), commit_point=CommitPoint())

    assert transports.lookup_sent(email(), since=since) is None


def test_backend_still_sends_plain_batches(smtp_server):
    sent = mail.send_mail("Hello", "Body", "a@example.com", ["b@example.com", "c@example.com"])

    assert sent == 1
    assert smtp_server.envelopes()[0][1] == ["b@example.com", "c@example.com"]


# --- Other backends: commit first, then send --------------------------------------------------------


def test_other_backend_commits_before_sending(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    seen = {}

    def commit_point():
        seen["outbox_at_commit"] = len(mail.outbox)
        return True

    result = transports.send(email(), commit_point=commit_point)

    assert seen == {"outbox_at_commit": 0}
    (sent,) = mail.outbox
    assert sent.extra_headers["Message-ID"] == "<touch-42@leadfollow.example>"
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert result == transports.ProviderResult(provider_message_id="<touch-42@leadfollow.example>", status="sent")


def test_other_backend_lost_claim_sends_nothing(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    with pytest.raises(TransportError) as info:
        transports.send(email(), commit_point=lambda: False)

    assert info.value.code == "claim_lost"
    assert mail.outbox == []


def test_other_backend_failure_after_commit(settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    def broken(self, messages):
        raise ConnectionError("provider API down")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", broken)

    with pytest.raises(TransportError) as info:
        transports.send(email(), commit_point=lambda: True)

    assert (info.value.permanent, info.value.after_commit) == (False, True)

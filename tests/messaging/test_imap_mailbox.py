"""The reply mailbox against a real dovecot (fixture imap_server): each email through the inbound
entry point once, moved to the processed folder, the cursor after it; duplicates, restarts, a
renumbered folder, a failing message, a poller killed mid-batch and a server that is down."""

import email.message
import email.utils
import logging
import signal
import sys
import textwrap
import threading

import pytest
from django.db import connection

from cadences.models import Touch
from messaging.mailbox import _LOCK_NAMESPACE
from messaging.models import InboundEmail, MailboxState
from messaging.providers.imap import ImapConfig, ImapError, ImapMailbox
from messaging.reply_address import sender_domain
from reactions import mailbox_poll as poller
from reactions.inbound_email import REPLY_TASK_TITLE
from reactions.mailbox_poll import mailbox_poll
from testkit.fakes.imap_server import DovecotServer, dovecot_available
from testkit.processes import ROOT, Process, free_port, wait_until
from tests.factories import CadenceStepFactory, LeadFactory, TouchFactory
from tests.services import require
from tests.worker import database_url, product_environ

PROCESSED = "LeadFollow/Processed"


@pytest.fixture
def lead(rep):
    return LeadFactory(owner=rep, email="pat@example.org", first_name="Pat")


def email_touch(lead):
    step = CadenceStepFactory(channel="email", automated=True, subject="Hi", body="Hello")
    return TouchFactory(lead=lead, step=step, channel="email", automated=True, assigned_to=None)


def reply(touch=None, *, n: int = 1, sender: str = "pat@example.org", message_id: str = "") -> bytes:
    """A lead's reply as a mail client writes it, threaded under `touch`'s email."""
    msg = email.message.EmailMessage()
    msg["From"] = f"Pat <{sender}>"
    msg["To"] = f"replies@{sender_domain()}"
    msg["Subject"] = "Re: Hi"
    msg["Date"] = email.utils.formatdate()
    msg["Message-ID"] = message_id or f"<reply-{n}@mail.example.org>"
    if touch is not None:
        msg["In-Reply-To"] = f"<touch-{touch.pk}@{sender_domain()}>"
        msg["References"] = f"<touch-{touch.pk}@{sender_domain()}>"
    msg.set_content(f"Yes, call me tomorrow ({n}).\n\nOn Mon, LeadFollow wrote:\n> Hello\n")
    return bytes(msg)


def state() -> MailboxState:
    return MailboxState.objects.get()


def test_a_reply_goes_through_the_entry_point_moves_and_advances_the_cursor(imap_server, lead):
    touch = email_touch(lead)
    uid = imap_server.append(reply(touch))

    assert mailbox_poll() == {"received": 1, "duplicates": 0, "failed": 0}

    inbound = InboundEmail.objects.get()
    assert (inbound.via, inbound.lead, inbound.matched_by, inbound.state) == ("imap", lead, "in_reply_to", "matched")
    assert inbound.message_id == "<reply-1@mail.example.org>"
    assert bytes(inbound.raw) == imap_server.messages(PROCESSED)[0]
    assert "call me tomorrow" in inbound.text and "> Hello" not in inbound.text
    assert Touch.objects.open_tasks().filter(lead=lead, title=REPLY_TASK_TITLE, urgent=True).count() == 1
    assert imap_server.uids("INBOX") == []
    assert len(imap_server.uids(PROCESSED)) == 1
    cursor = state()
    assert (cursor.uid_validity, cursor.last_uid, cursor.last_error) == (imap_server.uid_validity(), uid, "")
    assert cursor.mailbox == f"{imap_server.user}@127.0.0.1:{imap_server.port}/INBOX"
    assert cursor.polled_at is not None


def test_the_same_message_delivered_twice_is_processed_once(imap_server, lead):
    touch = email_touch(lead)
    imap_server.append(reply(touch))
    imap_server.append(reply(touch))  # two UIDs, one Message-ID

    assert mailbox_poll() == {"received": 1, "duplicates": 1, "failed": 0}

    assert InboundEmail.objects.count() == 1
    assert Touch.objects.filter(lead=lead, title=REPLY_TASK_TITLE).count() == 1
    assert imap_server.uids("INBOX") == []
    assert len(imap_server.uids(PROCESSED)) == 2
    assert state().last_uid == 2


def test_a_restarted_poller_reprocesses_nothing(imap_server, lead):
    touch = email_touch(lead)
    imap_server.append(reply(touch, n=1))
    imap_server.append(reply(touch, n=2))
    assert mailbox_poll()["received"] == 2

    # A new poller (a restarted worker) on the same database: nothing new, nothing again; a person
    # who drags a processed email back into the inbox gets it filed away, not processed again.
    assert mailbox_poll() == {"received": 0, "duplicates": 0, "failed": 0}
    imap_server.append(imap_server.messages(PROCESSED)[0])
    imap_server.append(reply(touch, n=3))
    assert mailbox_poll() == {"received": 1, "duplicates": 1, "failed": 0}

    assert sorted(InboundEmail.objects.values_list("message_id", flat=True)) == [
        f"<reply-{n}@mail.example.org>" for n in (1, 2, 3)
    ]
    assert imap_server.uids("INBOX") == []
    assert state().last_uid == 4


def test_a_new_uidvalidity_reads_the_folder_again_and_dedup_holds(imap_server, lead):
    touch = email_touch(lead)
    for n in (1, 2, 3):
        imap_server.append(reply(touch, n=n))
    assert mailbox_poll()["received"] == 3
    old_validity = state().uid_validity
    assert state().last_uid == 3

    # New mail and a processed one put back, then the server renumbers the folder (a migration,
    # a rebuilt index): both get UIDs below the old cursor.
    imap_server.append(reply(touch, n=4))
    imap_server.append(imap_server.messages(PROCESSED)[0])
    imap_server.renumber("INBOX")
    assert imap_server.uids("INBOX") == [1, 2]

    assert mailbox_poll() == {"received": 1, "duplicates": 1, "failed": 0}

    assert InboundEmail.objects.count() == 4
    assert InboundEmail.objects.filter(message_id="<reply-4@mail.example.org>").exists()
    cursor = state()
    assert cursor.uid_validity == imap_server.uid_validity() != old_validity
    assert cursor.last_uid == 2
    assert imap_server.uids("INBOX") == []


def test_a_message_that_fails_stays_in_the_folder_and_is_retried(imap_server, lead, monkeypatch, caplog):
    touch = email_touch(lead)
    for n in (1, 2, 3):
        imap_server.append(reply(touch, n=n))
    receive = poller.inbound_email_receive

    def fails_on_the_second(raw, *, via):
        if b"reply-2@" in raw:
            raise RuntimeError("Pat <pat@example.org> wrote something we choke on")
        return receive(raw, via=via)

    monkeypatch.setattr(poller, "inbound_email_receive", fails_on_the_second)
    with caplog.at_level(logging.WARNING, logger="reactions.mailbox_poll"):
        assert mailbox_poll() == {"received": 2, "duplicates": 0, "failed": 1}
        assert mailbox_poll() == {"received": 0, "duplicates": 0, "failed": 1}

    assert imap_server.uids("INBOX") == [2]
    assert state().last_uid == 1  # stops short of the failed UID, which the next poll reads again
    warnings = [r.getMessage() for r in caplog.records if "could not be processed" in r.getMessage()]
    assert len(warnings) == 1  # once per UID, not every poll
    assert "UID 2" in warnings[0] and "RuntimeError" in warnings[0]
    assert "pat@example.org" not in caplog.text and "choke" not in caplog.text

    monkeypatch.setattr(poller, "inbound_email_receive", receive)
    assert mailbox_poll() == {"received": 1, "duplicates": 0, "failed": 0}
    assert InboundEmail.objects.count() == 3
    assert imap_server.uids("INBOX") == []
    assert state().last_uid == 2  # UID 3 left the folder before: a search from 3 finds nothing to redo


def test_imap_down_records_the_error_and_loses_nothing(imap_server, lead, settings):
    touch = email_touch(lead)
    imap_server.append(reply(touch))

    settings.REPLY_IMAP_PASSWORD = "wrong"
    result = mailbox_poll()
    assert "cannot log in" in result["error"] and "AUTHENTICATIONFAILED" in result["error"]
    assert "wrong" not in result["error"]
    assert "cannot log in" in state().last_error
    assert InboundEmail.objects.count() == 0
    assert len(imap_server.uids("INBOX")) == 1

    settings.REPLY_IMAP_PASSWORD = imap_server.password
    assert mailbox_poll() == {"received": 1, "duplicates": 0, "failed": 0}
    assert state().last_error == ""


def test_a_server_that_does_not_answer(db, settings):
    settings.REPLY_IMAP_HOST, settings.REPLY_IMAP_PORT = "127.0.0.1", free_port()
    settings.REPLY_IMAP_USER, settings.REPLY_IMAP_SECURITY = "replies@leadfollow.test", "none"
    result = mailbox_poll()
    assert "ConnectionRefusedError" in result["error"]
    assert "ConnectionRefusedError" in state().last_error


def test_no_mailbox_configured_polls_nothing(db, settings):
    settings.REPLY_IMAP_HOST = ""
    assert mailbox_poll() == {"skipped": "REPLY_IMAP_HOST is not set"}
    assert not MailboxState.objects.exists()


def test_move_without_the_move_extension_copies_and_expunges_that_uid_only(imap_server):
    for n in (1, 2, 3):
        imap_server.append(reply(n=n))
    config = ImapConfig(imap_server.host, imap_server.port, imap_server.user, imap_server.password, "none")
    with ImapMailbox(config) as box:
        assert box.can_idle and "MOVE" in box.capabilities
        box._box.client.capabilities = tuple(c for c in box._box.client.capabilities if c != "MOVE")
        box.select("INBOX")
        # Someone else's message flagged \Deleted but not expunged: not ours to expunge.
        box._box.client.uid("STORE", "3", "+FLAGS", r"(\Deleted)")
        box.move(1, PROCESSED)
    assert imap_server.uids("INBOX") == [2, 3]
    assert len(imap_server.uids(PROCESSED)) == 1


def test_fetch_after_the_highest_uid_finds_nothing(imap_server):
    imap_server.append(reply(n=1))
    config = ImapConfig(imap_server.host, imap_server.port, imap_server.user, imap_server.password, "none")
    with ImapMailbox(config) as box:
        box.select("INBOX")
        assert [m.uid for m in box.fetch_after(0, chunk=2)] == [1]
        assert list(box.fetch_after(1)) == []  # "2:*" matches UID 1 on the wire
        with pytest.raises(ImapError):
            box.select("No such folder")


def test_a_second_poller_leaves_a_held_mailbox_alone(postgres, imap_server, lead):
    email_touch(lead)
    imap_server.append(reply(n=1))
    MailboxState.objects.create(mailbox=f"{imap_server.user}@127.0.0.1:{imap_server.port}/INBOX")
    pk = state().pk
    held, release = threading.Event(), threading.Event()

    def other_poller():  # its own database session, as another worker has
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, pk])
            held.set()
            release.wait(30)
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, pk])
        connection.close()

    thread = threading.Thread(target=other_poller)
    thread.start()
    try:
        assert held.wait(30)
        result = mailbox_poll()
    finally:
        release.set()
        thread.join(30)
    assert result == {"skipped": "another poller holds this mailbox", "received": 0, "duplicates": 0, "failed": 0}
    assert len(imap_server.uids("INBOX")) == 1
    assert mailbox_poll()["received"] == 1


# --- Real processes: a poller SIGKILLed mid-batch, the --idle loop ------------------------------------

# Run in a child: `manage.py mailbox_poll`, SIGKILLing itself when it is about to move the Nth
# message, i.e. right after the Nth was committed: the worst moment (processed, still in the inbox).
KILLED_POLL = textwrap.dedent(
    """
    import os, signal, sys
    import django
    django.setup()
    from django.core.management import call_command
    from messaging.providers import imap
    kill_at, moves = int(sys.argv[1]), []
    real_move = imap.ImapMailbox.move
    def move(self, uid, folder):
        moves.append(uid)
        if len(moves) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_move(self, uid, folder)
    imap.ImapMailbox.move = move
    call_command("mailbox_poll")
    """
)


def child_env(imap_server, tmp_path) -> dict:
    return {
        **product_environ(),
        "DATABASE_URL": database_url(),
        "LEADFOLLOW_VAR_DIR": str(tmp_path / "var"),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "REPLY_IMAP_HOST": imap_server.host,
        "REPLY_IMAP_PORT": str(imap_server.port),
        "REPLY_IMAP_USER": imap_server.user,
        "REPLY_IMAP_PASSWORD": imap_server.password,
        "REPLY_IMAP_SECURITY": "none",
        "REPLY_IMAP_POLL_SECONDS": "2",
        "DEBUG": "1",
    }


@pytest.mark.django_db(transaction=True)
def test_a_poller_killed_mid_batch_loses_nothing_and_processes_nothing_twice(postgres, imap_server, tmp_path, rep):
    lead = LeadFactory(owner=rep, email="pat@example.org")
    touch = email_touch(lead)
    for n in range(1, 6):
        imap_server.append(reply(touch, n=n))

    child = Process(
        [sys.executable, "-c", KILLED_POLL, "3"], env=child_env(imap_server, tmp_path), log_path=tmp_path / "poll.log"
    )
    child.start()
    child.process.wait(timeout=60)
    assert child.process.returncode == -signal.SIGKILL, child.log()

    # Killed after committing the 3rd, before moving it: two moved, three in the inbox, the cursor at 2.
    assert InboundEmail.objects.count() == 3
    assert imap_server.uids("INBOX") == [3, 4, 5]
    assert state().last_uid == 2

    assert mailbox_poll() == {"received": 2, "duplicates": 1, "failed": 0}
    assert sorted(InboundEmail.objects.values_list("message_id", flat=True)) == [
        f"<reply-{n}@mail.example.org>" for n in range(1, 6)
    ]
    assert imap_server.uids("INBOX") == []
    assert len(imap_server.uids(PROCESSED)) == 5
    assert state().last_uid == 5
    assert Touch.objects.filter(lead=lead, title=REPLY_TASK_TITLE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_idle_loop_processes_mail_as_it_arrives(postgres, imap_server, tmp_path, rep):
    lead = LeadFactory(owner=rep, email="pat@example.org")
    touch = email_touch(lead)
    imap_server.append(reply(touch, n=1))
    loop = Process(
        [sys.executable, "manage.py", "mailbox_poll", "--idle"],
        env=child_env(imap_server, tmp_path),
        log_path=tmp_path / "idle.log",
        cwd=ROOT,
    )
    try:
        loop.start(ready="received=1")
        imap_server.append(reply(touch, n=2))
        assert wait_until(lambda: InboundEmail.objects.count() == 2, timeout=30), loop.log()
        assert wait_until(lambda: imap_server.uids("INBOX") == [], timeout=10), loop.log()
    finally:
        loop.stop()
    assert InboundEmail.objects.filter(via="imap").count() == 2


def test_beat_polls_the_mailbox_only_where_there_is_one(settings, imap_server, lead):
    import importlib

    from intake.tasks import mailbox_poll as task
    from leadfollow import schedules
    from leadfollow.celery import app as celery_app

    declared = {s.name: s for s in schedules.SCHEDULES}
    assert "Read the reply mailbox" not in declared  # the test settings have no REPLY_IMAP_HOST
    try:
        settings.REPLY_IMAP_POLL_SECONDS = 30
        importlib.reload(schedules)
        poll = {s.name: s for s in schedules.SCHEDULES}["Read the reply mailbox"]
        assert (poll.task, poll.every_seconds) == ("intake.mailbox_poll", 30)
    finally:
        settings.REPLY_IMAP_HOST = ""
        importlib.reload(schedules)
    assert poll.task in celery_app.tasks
    assert task.delay().get() == {"skipped": "REPLY_IMAP_HOST is not set"}


@pytest.fixture
def tls_server():
    require(dovecot_available(), "dovecot (Debian: dovecot-imapd)")
    server = DovecotServer(tls=True).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_connections_verify_the_certificate(tls_server, security):
    tls_server.append(reply(n=1))
    port = tls_server.tls_port if security == "ssl" else tls_server.port
    config = ImapConfig(tls_server.host, port, tls_server.user, tls_server.password, security)
    with pytest.raises(ImapError, match="CERTIFICATE_VERIFY_FAILED"):
        ImapMailbox(config).connect()  # self-signed: not trusted by the system's CAs

    trusted = ImapConfig(
        tls_server.host, port, tls_server.user, tls_server.password, security, ca_file=tls_server.ca_file
    )
    with ImapMailbox(trusted) as box:
        box.select("INBOX")
        assert [m.uid for m in box.fetch_after(0)] == [1]

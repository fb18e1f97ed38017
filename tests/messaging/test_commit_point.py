"""The commit point of an automated touch (messaging/commit_point.py): the SMTP server's final "."
goes out right behind the database's COMMIT, before its answer is awaited, so a worker killed
while it waits leaves the email both delivered and recorded, never recorded and lost."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from cadences.models import Touch, TouchStatus
from messaging import commit_point
from messaging.commit_point import TouchCommitPoint
from testkit.processes import wait_until
from tests.factories import TouchFactory
from tests.worker import database_url

ROOT = Path(__file__).resolve().parents[2]


def claimed_touch(**kwargs) -> tuple[Touch, uuid.UUID]:
    token = uuid.uuid4()
    touch = TouchFactory(
        channel="email", automated=True, status=TouchStatus.SENDING, claim_token=token, claimed_at=timezone.now()
    )
    return touch, token


@pytest.mark.django_db(transaction=True)
def test_the_final_write_goes_out_before_the_commit_is_awaited(postgres):
    touch, token = claimed_touch()
    seen = {}

    def write():
        # COMMIT is on the wire, its answer not read yet: nothing waits between the two.
        seen["commit_pending"] = commit_point._local.conn.isexecuting()

    assert TouchCommitPoint(touch.pk, token).and_then(write)
    assert seen == {"commit_pending": True}
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT and touch.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_each_thread_commits_on_a_connection_of_its_own(postgres):
    """A threaded web server may send from two threads at once: one asynchronous connection each."""
    import threading

    touches = [claimed_touch() for _ in range(2)]
    used = {}

    def send(touch, token):
        try:
            TouchCommitPoint(touch.pk, token).and_then(lambda: used.setdefault(touch.pk, commit_point._local.conn))
        finally:
            connection.close()  # this thread's ORM connection

    threads = [threading.Thread(target=send, args=pair) for pair in touches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(conn) for conn in used.values()}) == 2
    for touch, _ in touches:
        touch.refresh_from_db()
        assert touch.status == TouchStatus.SENT
    commit_point.connection_close()
    assert all(conn.closed for conn in used.values())


@pytest.mark.parametrize("transactional", [True, False], ids=["own connection", "inside a transaction"])
def test_a_lost_claim_commits_and_writes_nothing(request, transactional):
    request.getfixturevalue("transactional_db" if transactional else "db")
    touch, _ = claimed_touch()
    writes = []

    assert not TouchCommitPoint(touch.pk, uuid.uuid4()).and_then(lambda: writes.append(1))
    assert writes == []
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENDING and touch.sent_at is None


def test_inside_a_transaction_the_orm_commits_first_then_writes(db):
    touch, token = claimed_touch()
    status_at_write = []

    def write():
        status_at_write.append(Touch.objects.get(pk=touch.pk).status)

    assert TouchCommitPoint(touch.pk, token).and_then(write)
    assert status_at_write == [TouchStatus.SENT]


# The worker's part, in a process of its own: it sends one email through the two-phase SMTP backend
# with the touch's commit point and is SIGKILLed while it waits for the database's answer to COMMIT
# (the moment that used to lose the email: the database had said "sent", the "." was not written).
KILLED_WHILE_COMMITTING = """
import os, signal, uuid, django
django.setup()
from messaging import commit_point, transports
from messaging.commit_point import TouchCommitPoint

wait = commit_point._wait
def wait_then_die_on_commit(conn):
    if conn.isexecuting() and state["dot"]:
        os.kill(os.getpid(), signal.SIGKILL)
    wait(conn)
commit_point._wait = wait_then_die_on_commit

state = {"dot": False}
point = TouchCommitPoint(int(os.environ["TOUCH"]), uuid.UUID(os.environ["TOKEN"]))
and_then = point.and_then
def and_then_marking(write):
    def marked():
        write()
        state["dot"] = True
    return and_then(marked)
point.and_then = and_then_marking

message = transports.OutgoingMessage(channel="email", to="pat@example.org", subject="Hi", body="Hello",
                                     message_id="<touch-%s@leadfollow.example>" % os.environ["TOUCH"])
transports.send(message, commit_point=point)
"""


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_the_commit_is_answered_leaves_the_email_delivered_and_sent(
    postgres, smtp_server, tmp_path
):
    touch, token = claimed_touch()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadfollow.settings",
        "DATABASE_URL": database_url(),
        "LEADFOLLOW_VAR_DIR": str(tmp_path),
        "EMAIL_BACKEND": "messaging.providers.smtp.TwoPhaseSMTPBackend",
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port),
        "TOUCH": str(touch.pk),
        "TOKEN": str(token),
    }
    done = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_COMMITTING], env=env, cwd=ROOT, timeout=60, capture_output=True
    )

    assert done.returncode == -9, done.stderr.decode()
    assert wait_until(lambda: len(smtp_server.messages()) == 1, timeout=10)
    assert smtp_server.messages()[0]["Message-ID"] == f"<touch-{touch.pk}@leadfollow.example>"
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT


@pytest.mark.django_db(transaction=True)
def test_a_commit_whose_connection_died_with_it_is_made_again_and_the_touch_is_sent(postgres, caplog):
    """The database's session ends while COMMIT is being worked on and the "." is already out (as in
    tests/reliability, sessions terminated): COMMIT rolled back, the email is on its way. The commit
    point commits again on a new connection, so the reconciler never finds it `sending` and sends it twice."""
    touch, token = claimed_touch()
    table = connection.ops.quote_name(Touch._meta.db_table)
    with connection.cursor() as cursor:
        # A deferred trigger holds COMMIT in the server long enough to end its session mid-commit.
        cursor.execute(
            "CREATE FUNCTION test_slow_commit() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            f"CREATE CONSTRAINT TRIGGER test_slow_commit AFTER UPDATE ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_slow_commit()"
        )
    writes, first_pid = [], []

    def write():
        writes.append(1)
        pid = commit_point._local.conn.get_backend_pid()
        first_pid.append(pid)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    try:
        assert TouchCommitPoint(touch.pk, token).and_then(write)
        assert commit_point._local.conn.get_backend_pid() != first_pid[0]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS test_slow_commit ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS test_slow_commit()")
        commit_point.connection_close()
    assert writes == [1]
    assert f"touch {touch.pk} committed again" in caplog.text
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT and touch.claim_token == token


@pytest.mark.django_db(transaction=True)
def test_a_commit_that_went_through_but_whose_answer_was_lost_is_not_made_twice(postgres, monkeypatch):
    import psycopg2

    touch, token = claimed_touch()
    wait, lost = commit_point._wait, []

    def wait_losing_the_commit_answer(conn):
        wait(conn)
        if writes and not lost:  # the first answer after the write: COMMIT's
            lost.append(1)
            raise psycopg2.OperationalError("server closed the connection unexpectedly")

    writes = []
    monkeypatch.setattr(commit_point, "_wait", wait_losing_the_commit_answer)
    try:
        assert TouchCommitPoint(touch.pk, token).and_then(lambda: writes.append(1))
    finally:
        commit_point.connection_close()
    assert lost == [1] and writes == [1]
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT


@pytest.mark.django_db(transaction=True)
def test_a_commit_lost_after_the_claim_was_taken_back_is_an_error(postgres, monkeypatch):
    """Had the reconciler taken the claim back meanwhile (the database away for longer than a lease),
    the sender is told the outcome is unknown, never that the claim was simply lost."""
    import psycopg2
    from django.db import OperationalError

    touch, token = claimed_touch()
    wait, writes = commit_point._wait, []

    def wait_then_taken_back(conn):
        wait(conn)
        if writes and not Touch.objects.filter(pk=touch.pk, claim_token=None).exists():
            Touch.objects.filter(pk=touch.pk).update(status=TouchStatus.SCHEDULED, claim_token=None)
            raise psycopg2.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(commit_point, "_wait", wait_then_taken_back)
    try:
        with pytest.raises(OperationalError, match="taken back"):
            TouchCommitPoint(touch.pk, token).and_then(lambda: writes.append(1))
    finally:
        commit_point.connection_close()
    assert writes == [1]

"""The broker and the database go away under a running worker: nothing is lost, nothing is sent
twice, and dispatch resumes on its own.

Redis: a private redis-server on a free port (never the shared one on 6379) is killed with
SIGKILL mid-dispatch, so every queued batch is lost with it (no persistence), and started again on
the same port. The claimed-but-never-started touches of lost batches wait in `sending` until their
queue lease (DISPATCH_QUEUE_LEASE_SECONDS) passes; the reconciler puts them back. PostgreSQL: every connection of the test database
except the test's own is terminated, several times, while the worker sends; Celery's Django fixup
closes unusable connections before each task (CONN_HEALTH_CHECKS too), and a batch cut short is
settled by the reconciler.
"""

import shutil

import pytest
from django.db import connection

from testkit.processes import Process, free_port, wait_until
from tests.reliability.conftest import (
    all_sent,
    assert_each_sent_exactly_once,
    beat,
    delivered,
    make_due_touches,
    scaled,
    settled,
)
from tests.services import redis_available, require

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


class RedisServer(Process):
    """A throwaway redis-server without persistence: a SIGKILL (`kill()`) loses everything queued."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        args = [
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]
        super().__init__([shutil.which("redis-server"), *args], env=None, log_path=None)

    def start(self) -> "RedisServer":
        super().start()
        assert wait_until(lambda: redis_available(self.url), timeout=10), "redis-server did not start"
        return self


@pytest.fixture
def own_redis():
    require(bool(shutil.which("redis-server")), "redis-server (to restart a private Redis)")
    server = RedisServer().start()
    yield server
    server.kill()


def test_redis_killed_and_restarted_mid_dispatch_loses_nothing(own_redis, start_worker, fake_twilio, smtp_server, rep):
    count = scaled(200, 1000)
    touches = make_due_touches(rep, count)
    # Batches that Redis lost wait out the queue lease (120 s in production): 3 s here, like the lease.
    worker = start_worker(redis_url=own_redis.url, DISPATCH_QUEUE_LEASE_SECONDS="3")
    restarts = 0
    beat(pause=0)
    for _ in range(scaled(1, 6)):
        target = delivered(fake_twilio, smtp_server) + count // 8
        wait_until(lambda t=target: delivered(fake_twilio, smtp_server) >= t, timeout=20, interval=0.01)
        if delivered(fake_twilio, smtp_server) >= count:
            break
        own_redis.kill()  # the queued batches die with it
        restarts += 1
        for _ in range(4):
            beat(pause=0.5)  # a beat tick while the broker is down fails and is tried again
        own_redis.start()  # same port: the worker and the producer reconnect by themselves
        beat(pause=0)

    done = wait_until(
        lambda: settled(touches, fake_twilio, smtp_server),
        timeout=scaled(90, 400),
        interval=0.5,
        tick=beat,
    )
    for _ in range(5):
        beat(pause=1)
    assert restarts >= 1, "everything was sent before Redis could be restarted: make the batch bigger"
    assert worker.process.poll() is None, ("the worker died with the broker", worker.log())
    assert_each_sent_exactly_once(touches, fake_twilio, smtp_server, log=worker.log())  # says what is missing
    assert done, worker.log()


def _terminate_other_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_postgres_connections_dropped_under_the_worker_it_recovers(
    start_worker, redis_url, fake_twilio, smtp_server, rep
):
    count = scaled(200, 1000)
    touches = make_due_touches(rep, count)
    # A claim whose COMMIT reached the server but whose answer died with the connection was never
    # enqueued: like a batch Redis lost, it waits out the queue lease (120 s in production, 3 s here).
    worker = start_worker(redis_url=redis_url, DISPATCH_QUEUE_LEASE_SECONDS="3")
    drops = terminated = 0
    beat(pause=0)
    for _ in range(scaled(4, 15)):
        target = delivered(fake_twilio, smtp_server) + count // 10
        wait_until(lambda t=target: delivered(fake_twilio, smtp_server) >= t, timeout=20, interval=0.01)
        if delivered(fake_twilio, smtp_server) >= count:
            break
        terminated += _terminate_other_connections()
        drops += 1
        beat(pause=0.2)

    wait_until(
        lambda: settled(touches, fake_twilio, smtp_server),
        timeout=scaled(90, 400),
        interval=0.5,
        tick=beat,
    )
    for _ in range(5):
        beat(pause=1)
    assert drops >= 2 and terminated >= 1, (drops, terminated)
    assert worker.process.poll() is None, ("the worker died with its connections", worker.log())
    # A connection cut just after the commit point's COMMIT reached the server is the same gap as a kill.
    assert_each_sent_exactly_once(touches, fake_twilio, smtp_server, log=worker.log(), crashes=drops)
    assert all_sent(touches), worker.log()

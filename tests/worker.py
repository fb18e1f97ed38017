"""A real Celery worker process for tests: its own queue on the real Redis, the test database,
and the fake providers' addresses. Used by the dispatch and reliability tests; the process
harness itself (start, stop, kill) is testkit.processes, shared with the benchmarks."""

import datetime as dt
import os
import uuid

from django.conf import settings
from django.db import connection

from leadfollow.celery import app as celery_app
from testkit.processes import ROOT, Process, celery_worker_args


def database_url() -> str:
    """The URL of the database the tests run on (pytest-django's test_… database)."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def product_environ() -> dict:
    """This process's environment for a child that runs the product (worker, beat, gunicorn): the
    production-like settings, not the suite's that pytest exported (leadfollow.settings_test)."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "leadfollow.settings"}


def product_process_environ(*, redis_url: str, queue: str) -> dict:
    """product_environ() on the test database, with `redis_url` as broker and tasks sent to `queue`
    (a worker, or gunicorn's instant-response tasks)."""
    return {
        **product_environ(),
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "1",
    }


class CeleryWorker(Process):
    """`celery worker` on a queue of its own (testkit.processes.Process: start, stop, kill, log);
    starting it points this process's producer at it."""

    def __init__(self, *, redis_url: str, env: dict | None = None, concurrency: int = 2):
        self.queue = f"lf-test-{uuid.uuid4().hex[:8]}"
        self.redis_url = redis_url
        super().__init__(
            celery_worker_args(queue=self.queue, concurrency=concurrency, name=f"{self.queue}@%h"),
            env={
                **product_process_environ(redis_url=redis_url, queue=self.queue),
                "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL,
                "LEADFOLLOW_VAR_DIR": str(ROOT / "var" / "test-worker"),
                **(env or {}),
            },
            log_path=ROOT / "var" / f"{self.queue}.log",
        )

    def start(self) -> "CeleryWorker":
        super().start()
        self._point_producer()
        return self

    def _point_producer(self) -> None:
        celery_app.conf.task_always_eager = False
        celery_app.conf.broker_url = self.redis_url
        celery_app.conf.broker_transport_options = {"visibility_timeout": 600}
        celery_app.conf.task_default_queue = self.queue
        # Forget connection pools made for another broker so .delay() goes to this one
        # (kombu's global producer registry is keyed by connection, so new URL → new pool).
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    def restart(self) -> None:
        self.kill()
        self.start()


def daytime_zone() -> str:
    """A timezone where it is now mid-day, so SMS are inside the contact window whenever CI runs."""
    hour = dt.datetime.now(dt.UTC).hour
    offset = (13 - hour) % 24
    offset = offset - 24 if offset > 12 else offset
    # Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3.
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"

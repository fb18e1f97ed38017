"""A real Celery worker process for tests: its own queue on the real Redis, the test database,
and the fake providers' addresses. Used by the dispatch and reliability tests."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

from leadfollow.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database the tests run on (pytest-django's test_… database)."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def product_environ() -> dict:
    """This process's environment for a child that runs the product (worker, beat, gunicorn): the
    production-like settings, not the suite's that pytest exported (leadfollow.settings_test)."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "leadfollow.settings"}


class CeleryWorker:
    """Start/kill/restart `celery worker` in its own process group; point this process's producer at it."""

    def __init__(self, *, redis_url: str, env: dict | None = None, concurrency: int = 2):
        self.queue = f"lf-test-{uuid.uuid4().hex[:8]}"
        self.redis_url = redis_url
        self.concurrency = concurrency
        self.env = {
            **product_environ(),
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DEBUG": "1",
            "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL,
            "LEADFOLLOW_VAR_DIR": str(ROOT / "var" / "test-worker"),
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.log_path = ROOT / "var" / f"{self.queue}.log"

    def start(self) -> "CeleryWorker":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "leadfollow",
                "worker",
                "-l",
                "warning",
                "-Q",
                self.queue,
                "--concurrency",
                str(self.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{self.queue}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
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

    def kill(self) -> None:
        """SIGKILL the whole worker: the main process and its pool children, mid-whatever."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> None:
        self.kill()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""


def wait_until(condition, *, timeout: float, interval: float = 0.1, tick=None) -> bool:
    """Poll `condition` (calling `tick` between polls, e.g. a beat stand-in) until true or timed out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if tick:
            tick()
        time.sleep(interval)
    return condition()


def daytime_zone() -> str:
    """A timezone where it is now mid-day, so SMS are inside the contact window whenever CI runs."""
    hour = dt.datetime.now(dt.UTC).hour
    offset = (13 - hour) % 24
    offset = offset - 24 if offset > 12 else offset
    # Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3.
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"

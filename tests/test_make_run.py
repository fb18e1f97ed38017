"""`make run`: each request logged once, and Ctrl-C stops the worker cleanly (a warm shutdown, no pool
process killed under it, nothing SIGKILLed). The Procfile, the Makefile's honcho command and LOGGING
are what is tested, as `make run` uses them."""

import logging
import logging.config
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.conf import settings

from leadfollow.log_filters import QuietTicks
from leadfollow.schedules import SCHEDULES

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"


def product_env(tmp_path, **extra) -> dict:
    """`make run`'s environment: the product settings (DEBUG on), embedded defaults in a folder of the test's."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "leadfollow.settings",
        "LEADFOLLOW_VAR_DIR": str(tmp_path),
        "DEBUG": "1",
        "LOG_QUIET_TICKS": "1",
        "PATH": f"{BIN}:{env['PATH']}",
        **extra,
    }


def test_a_request_is_logged_once_and_a_server_error_with_its_traceback(tmp_path):
    """In a process configured as `make run`'s web server is (django.setup(): Django's default logging,
    then LOGGING): runserver's access line once, no "Not Found" repeat, a 500's error once."""
    script = textwrap.dedent(
        """
        import logging
        import django
        django.setup()
        from django.test import Client
        from django.urls import path
        from leadfollow import urls

        def broken(request):
            raise RuntimeError("boom")

        urls.urlpatterns.insert(0, path("broken/", broken))
        client = Client(raise_request_exception=False)
        assert client.get("/no-such-page/").status_code == 404
        assert client.get("/broken/").status_code == 500
        # What runserver writes for every request (django.core.servers.basehttp).
        logging.getLogger("django.server").info('"GET /no-such-page/ HTTP/1.1" 404 4623')
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=product_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    log = result.stderr
    assert log.count('"GET /no-such-page/ HTTP/1.1" 404') == 1, log
    assert "Not Found" not in log, log
    assert log.count("Internal Server Error: /broken/") == 1 and log.count("RuntimeError: boom") == 1, log


def test_every_request_logger_reaches_one_handler():
    logging.config.dictConfig(settings.LOGGING)
    for name in ("django.server", "django.request", "django"):
        logger, handlers = logging.getLogger(name), []
        while logger:
            handlers += logger.handlers
            logger = logger.parent if logger.propagate else None
        assert len(handlers) == 1, (name, handlers)


def record(name, message, *args, level=logging.INFO):
    return logging.LogRecord(name, level, __file__, 1, message, args, None)


def test_the_beat_ticks_are_quiet_and_real_work_is_not():
    quiet = QuietTicks(tasks=settings.QUIET_TICK_TASKS)
    assert not quiet.filter(record("celery.beat", "Scheduler: Sending due task %s (%s)", "x", "cadences.dispatch_due"))
    assert not quiet.filter(record("celery.worker.strategy", "Task %s[%s] received", "cadences.reconcile_stuck", "1"))
    assert quiet.filter(record("celery.app.trace", "Task %s[%s] succeeded", "cadences.touches_send", "2"))
    failed = record("celery.app.trace", "Task %s[%s] raised", "cadences.dispatch_due", "3", level=logging.ERROR)
    assert quiet.filter(failed)


def test_the_quiet_ticks_are_the_schedules_that_run_every_few_seconds():
    assert sorted(settings.QUIET_TICK_TASKS) == sorted(s.task for s in SCHEDULES if (s.every_seconds or 60) < 60)


def test_own_session_passes_the_signal_to_the_main_process_only(tmp_path):
    """What honcho does on Ctrl-C: SIGTERM to the whole process group of what it started. A program
    with a child of its own (a worker and its pool) run through leadfollow.own_session gets it on
    its main process only, which then stops its child itself."""
    program = textwrap.dedent(
        """
        import signal, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c",
            "import signal, sys, time\\n"
            "signal.signal(signal.SIGTERM, lambda *a: (print('child got SIGTERM', flush=True), sys.exit(1)))\\n"
            "print('child up', flush=True)\\n"
            "sys.stdin.read()\\n"
            "print('child stopped by its parent', flush=True)"], stdin=subprocess.PIPE)
        def stop(*args):
            print("main got SIGTERM", flush=True)
            child.stdin.close()
            sys.exit(child.wait())
        signal.signal(signal.SIGTERM, stop)
        while True:
            time.sleep(0.1)
        """
    )
    wrapper = subprocess.Popen(
        [sys.executable, "-m", "leadfollow.own_session", sys.executable, "-c", program],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert wrapper.stdout.readline().strip() == "child up"
    os.killpg(wrapper.pid, signal.SIGTERM)
    out, _ = wrapper.communicate(timeout=20)
    assert wrapper.returncode == 0, out
    assert out.split() == "main got SIGTERM child stopped by its parent".split(), out


@pytest.mark.worker
def test_ctrl_c_stops_the_procfile_worker_cleanly(tmp_path):
    """The Procfile's worker under the Makefile's honcho command, Ctrl-C (SIGINT to honcho, as a
    terminal sends it): a warm shutdown, exit code 0, no pool process killed, nothing SIGKILLed."""
    honcho = re.search(r"^HONCHO := (.+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    command = honcho.replace("$(BIN)", str(BIN)) + f" start --procfile Procfile --app-root {ROOT} worker"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=product_env(tmp_path),
        check=True,
        timeout=300,
    )
    log = tmp_path / "honcho.log"
    with log.open("w") as out:
        honcho_process = subprocess.Popen(
            shlex.split(command), cwd=ROOT, env=product_env(tmp_path), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 90
        while "ready." not in log.read_text():
            assert time.monotonic() < deadline and honcho_process.poll() is None, log.read_text()
            time.sleep(0.5)
        honcho_process.send_signal(signal.SIGINT)
        honcho_process.wait(timeout=70)
    finally:
        if honcho_process.poll() is None:
            honcho_process.kill()
    text = log.read_text()
    assert "Warm shutdown" in text, text
    assert "worker.1 stopped (rc=0)" in text, text
    assert "SIGKILL" not in text and "exited with 'signal" not in text and "prematurely" not in text, text

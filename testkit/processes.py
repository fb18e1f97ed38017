"""Child processes for the tests and the benchmarks: a Celery worker or beat, gunicorn, a fake provider.

    worker = Process(celery_worker_args(queue="q", concurrency=2, name="q@%h"), env=env, log_path=path)
    worker.start(ready=...)  # a line its output prints once ready, or a callable that is true then
    worker.stop()            # SIGTERM, then SIGKILL if it has not exited in 15 s
    worker.kill()            # SIGKILL, mid-whatever (fault tests)

Each child runs in a process group of its own, so stop and kill reach a worker's pool processes
and gunicorn's workers too; stdout and stderr go to its log file (appended to across restarts).
No Django here: bench/run.py starts processes before Django is set up, and the fakes import it.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


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


def http_status(port: int, path: str = "/healthz/", host: str = "127.0.0.1") -> int | None:
    """The HTTP status a GET of `path` answers with, None while nothing answers."""
    try:
        conn = http.client.HTTPConnection(host, port, timeout=2)
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None


class ProcessNotReady(RuntimeError):
    pass


class Process:
    """One child process: start (and wait until ready), stop, kill, read its log."""

    def __init__(self, args: Sequence[str], *, env: dict | None, log_path: Path | None, cwd: Path = ROOT):
        """`env` None: this process's environment; `log_path` None: output discarded."""
        self.args, self.env, self.log_path, self.cwd = list(args), env, log_path, cwd
        self.process: subprocess.Popen | None = None

    def start(self, *, ready: str | Callable[[], bool] | None = None, timeout: float = 30) -> "Process":
        """Start the process; with `ready`, wait until its log shows that line (or the callable is
        true), raising ProcessNotReady if it exits or `timeout` passes first."""
        if self.log_path is None:
            output = subprocess.DEVNULL
        else:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            output = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it; closed below
        try:
            self.process = subprocess.Popen(
                self.args, cwd=self.cwd, env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            if output is not subprocess.DEVNULL:
                output.close()
        if ready is not None:
            is_ready = ready if callable(ready) else lambda: ready in self.log(tail=None)
            if not wait_until(lambda: is_ready() or not self.running, timeout=timeout) or not is_ready():
                raise ProcessNotReady(f"{self.args[:4]} did not start; see {self.log_path}\n{self.log()}")
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the process group; SIGKILL it if it is still there after `timeout` seconds."""
        if not self.running:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its children, mid-whatever."""
        if self.running:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def _signal(self, signum) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:  # exited in between
            pass

    def log(self, tail: int | None = 5000) -> str:
        """The end of its output (all of it with tail=None)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace")
        return text if tail is None else text[-tail:]


def celery_worker_args(*, queue: str, concurrency: int, name: str) -> list[str]:
    """`celery worker` on one queue, quiet, without the cluster chatter a lone test worker does not need."""
    return [
        sys.executable, "-m", "celery", "-A", "leadfollow", "worker", "-l", "warning", "-Q", queue,
        "--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", name,
    ]  # fmt: skip


def celery_beat_args(*, workdir: Path) -> list[str]:
    """`celery beat` logging each task it sends, its pidfile and schedule file in `workdir`."""
    return [
        sys.executable, "-m", "celery", "-A", "leadfollow", "beat", "-l", "info",
        "--pidfile", str(workdir / "beat.pid"), "-s", str(workdir / "schedule"),
    ]  # fmt: skip


def gunicorn_args(*, port: int, workers: int, options: Sequence[str] = ()) -> list[str]:
    """gunicorn serving the product's WSGI app on 127.0.0.1:`port`."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "leadfollow.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        *options,
    ]

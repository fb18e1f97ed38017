"""A gunicorn config for tests/test_gunicorn.py: the product's ./gunicorn.conf.py plus hooks that
write, to $GUNICORN_PROBE_FILE (one JSON object a line), what the master had loaded when it was
ready and which modules each request of each worker imported. Hooks only record: no endpoint."""

import json
import os
import sys
from pathlib import Path

exec(compile((Path(__file__).resolve().parent.parent / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"))

_PROBE = os.environ["GUNICORN_PROBE_FILE"]
_loaded: set[str] = set()


def _write(**record):
    with open(_PROBE, "a") as f:
        f.write(json.dumps(record) + "\n")


def when_ready(server):
    from django.db import connections  # set up by now only if the app was preloaded

    _write(
        event="master_ready",
        app_loaded="intake.api" in sys.modules,
        open_database_connections=sum(c.connection is not None for c in connections.all(initialized_only=True)),
    )


def post_worker_init(worker):
    _loaded.update(sys.modules)
    _write(event="worker_ready", pid=worker.pid, modules=sorted(_loaded))


def post_request(worker, req, environ, resp):
    new = sorted(set(sys.modules) - _loaded)
    _loaded.update(new)
    _write(event="request", pid=worker.pid, path=req.path, imported=new)

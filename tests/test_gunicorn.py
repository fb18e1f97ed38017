"""gunicorn as the product runs it (./gunicorn.conf.py, leadfollow/wsgi.py): the app is preloaded in
the master, a worker's first lead imports nothing that its boot did not, and the Server header
names no version. Speed itself is `make bench`'s business; this checks the cause of a cold start
(imports on first use) without timing anything."""

import http.client
import json
import re
from pathlib import Path

import pytest

from leads.models import Lead
from leads.services.api_keys import lead_source_issue_api_key
from testkit.processes import Process, free_port, gunicorn_args
from tests.factories import LeadSourceFactory, TeamFactory, UserFactory
from tests.worker import product_process_environ

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

PROBE_CONFIG = Path(__file__).resolve().parent / "gunicorn_probe.conf.py"


def records(path: Path, event: str) -> list[dict]:
    if not path.exists():
        return []
    return [r for r in map(json.loads, path.read_text().splitlines()) if r["event"] == event]


@pytest.fixture
def served(postgres, redis_url, tmp_path):
    """A one-worker gunicorn with the probe hooks, started through testkit.processes; its probe file."""
    probe = tmp_path / "probe.jsonl"
    port = free_port()
    env = {
        **product_process_environ(redis_url=redis_url, queue=f"lf-gunicorn-{port}"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LEADFOLLOW_VAR_DIR": str(tmp_path / "var"),
        "GUNICORN_PROBE_FILE": str(probe),
    }
    server = Process(
        gunicorn_args(port=port, workers=1, options=["-c", str(PROBE_CONFIG)]), env=env, log_path=tmp_path / "g.log"
    )
    # Ready when the worker has booted; no request before the lead (a healthcheck would be the first).
    server.start(ready=lambda: bool(records(probe, "worker_ready")), timeout=60)
    yield port, probe
    server.stop()


def post_lead(port: int, key: str, phone: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"first_name": "Cold", "phone": phone, "email": f"cold{phone[-4:]}@example.org"})
    conn.request("POST", "/api/leads/", body, {"Content-Type": "application/json", "Authorization": f"Api-Key {key}"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_the_first_lead_imports_nothing_new_and_the_server_names_no_version(served):
    port, probe = served
    team = TeamFactory(name="Cold start")
    UserFactory(username="cold", role="rep", team=team)
    key = lead_source_issue_api_key(source=LeadSourceFactory(name="Cold site", team=team))

    first = post_lead(port, key, "+12125550142")
    second = post_lead(port, key, "+12125550143")

    assert (first.status, second.status) == (201, 201)
    assert Lead.objects.count() == 2
    (master,) = records(probe, "master_ready")
    assert master["app_loaded"], "gunicorn.conf.py preloads the app in the master"
    assert master["open_database_connections"] == 0, "a preloaded master must not hand a connection to its workers"
    (boot,) = records(probe, "worker_ready")
    assert {"leadfollow.urls", "intake.api", "rest_framework.views", "drf_spectacular.views"} <= set(boot["modules"])
    requests = records(probe, "request")
    assert [r["path"] for r in requests] == ["/api/leads/", "/api/leads/"]
    assert requests[0]["imported"] == [], "the first request imported what boot should have"
    for response in (first, second):
        server = response.getheader("Server")
        assert server and not re.search(r"[\d/]", server), server

"""docker-compose.yml and the Dockerfile cannot run here: check by reading what `docker compose config` would catch."""

import fnmatch
import re
import runpy
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def command_of(service) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def test_valid_yaml_with_every_service(services):
    assert {"web", "worker", "beat", "postgres", "redis", "migrate"} <= set(services)


def test_app_services_share_one_image_and_one_environment(compose, services):
    env = compose["x-app-env"]
    for name in (*APP_SERVICES, "migrate"):
        service = services[name]
        assert service["build"] == "."
        assert service["image"] == "leadfollow:latest"
        assert service["environment"] == env, name
    raw = (ROOT / "docker-compose.yml").read_text()
    # The same anchor, not copies that could drift apart.
    assert raw.count("environment: *app-env") == 1
    assert raw.count("<<: *app\n") == 4


def test_environment_is_production_and_read_by_settings(compose):
    env = compose["x-app-env"]
    assert env["DEBUG"] == "0"
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", env["SECRET_KEY"]), "SECRET_KEY must be required, no default"
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    settings_source = (ROOT / "leadfollow" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', settings_source))
    unknown = sorted(set(env) - read)
    assert unknown == [], f"compose sets variables settings.py never reads: {unknown}"


def test_app_services_wait_for_healthy_services_and_migrations(services):
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "migrate" in command_of(services["migrate"])
    assert services["migrate"]["restart"] == "no"


def test_healthchecks(services):
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    web_check = " ".join(services["web"]["healthcheck"]["test"])
    assert "/healthz/" in web_check and "urllib" in web_check
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_commands(services):
    assert command_of(services["web"]).startswith("gunicorn leadfollow.wsgi")
    assert command_of(services["worker"]).startswith("celery -A leadfollow worker")
    assert command_of(services["beat"]).startswith("celery -A leadfollow beat")


def test_exactly_one_beat(services):
    beats = [name for name, service in services.items() if " beat" in command_of(service)]
    assert beats == ["beat"]
    beat = services["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert "scale" not in beat


def test_dockerfile_builds_a_non_root_gunicorn_image():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert "pip install -r requirements.txt" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    user = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert user and user[-1] not in ("root", "0")
    assert "gunicorn" in dockerfile and "leadfollow.wsgi" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var"} <= set(ignored)


def test_procfile_for_make_run_matches_compose_commands(services):
    procfile = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line and not line.startswith("#")
    )
    assert set(procfile) == {"web", "worker", "beat"}
    # make run wraps the worker in a session of its own (leadfollow/own_session.py, for a clean Ctrl-C).
    worker = procfile["worker"].strip().removeprefix("exec ").removeprefix("python -m leadfollow.own_session ")
    assert worker == command_of(services["worker"])
    assert procfile["beat"].strip().removeprefix("exec ") == command_of(services["beat"])


def test_web_preloads_the_app_through_gunicorn_conf(services):
    dockerfile_cmd = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M).group(1)
    for command in (command_of(services["web"]), " ".join(yaml.safe_load(dockerfile_cmd))):
        assert "--config gunicorn.conf.py" in command, command
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["preload_app"] is True
    # The image has the file: COPY . . and nothing in .dockerignore leaves it out.
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not any(fnmatch.fnmatch("gunicorn.conf.py", pattern) for pattern in ignored)
    # Healthy soon after the (preloaded) app answers /healthz/.
    assert services["web"]["healthcheck"]["start_interval"] == "2s"

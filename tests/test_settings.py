"""Settings come from the environment: production secrets have no defaults, bad values fail loudly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k7#Qz!p2Vw9rT4yU8iO3aS6dF1gH5jK0lZxC-vBnM.qWeRtYuIoPaSdFgHjKl",
    "ALLOWED_HOSTS": "example.com",
}


def run(args, tmp_path, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")}
    env.update(DJANGO_SETTINGS_MODULE="leadfollow.settings", LEADFOLLOW_VAR_DIR=str(tmp_path / "var"))
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


SETUP = ["-c", "import django; django.setup(); print('ok')"]


def test_development_needs_nothing_set(tmp_path):
    result = run(SETUP, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_production_without_secret_key_fails_loudly(tmp_path):
    result = run(SETUP, tmp_path, DEBUG="0", SECRET_KEY=None)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_with_a_short_secret_key_fails(tmp_path):
    result = run(SETUP, tmp_path, DEBUG="0", SECRET_KEY="too-short")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_is_clean_with_production_values(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_values(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.ALLOWED_HOSTS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS > 0, s.STORAGES['staticfiles']['BACKEND'].startswith('whitenoise'))"
    )
    result = run(["-c", code], tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "['example.com']", "True", "True", "True", "True", "True"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "garbage"),
        ("CONN_MAX_AGE", "abc"),
        ("DEBUG", "maybe"),
        ("EMAIL_PORT", "twenty-five"),
        ("MIN_ATTEMPTS_BEFORE_CLOSE", "five"),
        ("CONTACT_WINDOW_START_HOUR", "noon"),
        ("REPLY_IMAP_PORT", "imaps"),
        ("REPLY_IMAP_SECURITY", "tls"),
    ],
)
def test_malformed_values_fail_loudly_naming_the_variable(tmp_path, name, value):
    extra = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused"} if name == "CONN_MAX_AGE" else {}
    result = run(SETUP, tmp_path, **{**extra, name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_contact_window_cannot_be_inverted(tmp_path):
    result = run(SETUP, tmp_path, CONTACT_WINDOW_START_HOUR="18", CONTACT_WINDOW_END_HOUR="10")
    assert result.returncode != 0
    assert "CONTACT_WINDOW_START_HOUR" in result.stderr


def test_database_url_switches_to_postgresql(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'])"
    )
    result = run(["-c", code], tmp_path, DATABASE_URL="postgres://u:p@db.internal:5432/leadfollow")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.postgresql"


def test_redis_url_switches_broker_and_cache(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'])"
    )
    result = run(["-c", code], tmp_path, REDIS_URL="redis://cache.internal:6379/2", CELERY_BROKER_URL=None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["redis://cache.internal:6379/2", "django.core.cache.backends.redis.RedisCache"]


def test_embedded_defaults_use_sqlite_and_the_filesystem_broker(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)"
    )
    result = run(["-c", code], tmp_path, DATABASE_URL=None, REDIS_URL=None, CELERY_BROKER_URL=None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://"]


def test_the_suite_runs_on_the_test_settings():
    from django.conf import settings

    from leadfollow.celery import app as celery_app

    assert settings.SETTINGS_MODULE == "leadfollow.settings_test"
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert settings.CELERY_TASK_ALWAYS_EAGER and celery_app.conf.task_always_eager


def test_a_real_worker_runs_the_production_settings(tmp_path):
    """pytest exports the test settings' name: the processes the tests start must not inherit it
    (an eager worker would run nothing from the broker; gunicorn workers would not share a cache)."""
    from tests.worker import CeleryWorker

    env = {**CeleryWorker(redis_url="redis://127.0.0.1:6379/0").env, "LEADFOLLOW_VAR_DIR": str(tmp_path / "var")}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SETTINGS_MODULE, s.CELERY_TASK_ALWAYS_EAGER, s.PASSWORD_HASHERS[0].rsplit('.', 1)[-1])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["leadfollow.settings", "False", "PBKDF2PasswordHasher"]

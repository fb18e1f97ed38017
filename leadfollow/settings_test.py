"""Settings for the test suite (pyproject's DJANGO_SETTINGS_MODULE): the product settings, read from
the environment as usual (DATABASE_URL, REDIS_URL, ...), plus what every in-process test wants.

The processes the tests start for real (Celery worker, beat, gunicorn: tests/worker.py,
tests/reliability) set DJANGO_SETTINGS_MODULE=leadfollow.settings in their environment: they run
the production-like settings, with tasks on the broker and a shared cache, never these.
"""

from leadfollow.settings import *  # noqa: F403

# PBKDF2's deliberate slowness is for production; factories hash a password per user.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# One in-memory cache per test process, emptied before each test (tests/conftest.py): API throttle
# counts never carry over between tests, runs or xdist workers through the file cache or Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "leadfollow-tests"}}

# In-process tests run tasks inline. A real-worker test points this process's producer at its
# worker for its duration (tests/worker.py).
CELERY_TASK_ALWAYS_EAGER = True

# The product rules the tests assert against, at their shipped values whatever the shell exports.
TIME_ZONE = "America/New_York"
MIN_ATTEMPTS_BEFORE_CLOSE = 5
ABANDONED_AFTER_DAYS = 14

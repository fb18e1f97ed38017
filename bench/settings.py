"""Settings for benchmark runs only (DJANGO_SETTINGS_MODULE=bench.settings, set by bench/run.py).

The product settings plus the baseline endpoints (bench/urls.py), the bench-only Celery tasks
(bench/tasks.py) and `bench` as an app for its `manage.py seed_bench`. Nothing here is installed
in production.
"""

from leadfollow.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
ROOT_URLCONF = "bench.urls"
CELERY_IMPORTS = ["bench.tasks"]
# DEBUG=0 normally serves hashed file names from collectstatic's manifest; the benchmark does not
# run collectstatic, and a static URL costs about the same either way.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadfollow.settings")

app = Celery("leadfollow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

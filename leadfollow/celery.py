"""The Celery app, and the two queues every worker reads.

Batches of touches (`cadences.touches_send`, fanned out by the periodic dispatcher) ride a queue of
their own, `<default queue>.batches`; everything else stays on the default queue: a new lead's
instant touches (`cadences.touches_send_now`), rep alerts, beat's dispatch and reconcile ticks,
imports. A worker that reads the default queue reads the batches queue too, after it (the `-Q`
option need not name it), and with Redis's "priority" queue order (settings) it always takes
what waits on the default queue first. With no prefetch (CELERY_WORKER_DISABLE_PREFETCH) a
worker takes a message only when a pool process is free, so a new lead's auto-responder waits at
most for one running batch to finish, never behind the thousands of touches queued before it.
"""

import os

from celery import Celery
from celery.signals import celeryd_after_setup
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadfollow.settings")
# `filesystem://` (make run) with whole messages only (leadfollow/filesystem_broker.py).
TRANSPORT_ALIASES["filesystem"] = "leadfollow.filesystem_broker:Transport"

app = Celery("leadfollow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

BATCH_TASKS = {"cadences.touches_send"}


def batches_queue(default_queue: str) -> str:
    return f"{default_queue}.batches"


def route_task(name, args, kwargs, options, task=None, **kw):
    """CELERY_TASK_ROUTES: batches of touches to the batches queue of the current default queue
    (read at send time: the tests point the producer at a worker's own queue)."""
    if name in BATCH_TASKS:
        return {"queue": batches_queue(app.conf.task_default_queue)}
    return None


@celeryd_after_setup.connect(dispatch_uid="leadfollow.batches_queue")
def _read_the_batches_queue_too(sender, instance, **kwargs):
    """A worker that reads the default queue also reads its batches queue, after it."""
    queues = instance.app.amqp.queues
    default = instance.app.conf.task_default_queue
    if default in queues.consume_from:
        queues.select_add(batches_queue(default))

"""No-op tasks for the Celery baselines (loaded by the bench worker through CELERY_IMPORTS).

Each leaves one tiny trace in Redis so the runner can see it ran: the round trip's arrival time
(`bench:pong`, a hash token -> wall-clock seconds) or a counter (`bench:noop`).
"""

import time

import redis
from celery import shared_task
from django.conf import settings

_client = None


def _redis():
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


@shared_task(name="bench.ping")
def ping(token: str) -> None:
    _redis().hset("bench:pong", token, repr(time.time()))


@shared_task(name="bench.noop")
def noop() -> None:
    _redis().incr("bench:noop")

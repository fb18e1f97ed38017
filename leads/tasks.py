"""Periodic housekeeping of the leads app (declared in leadfollow/schedules.py). The CSV import's
tasks are intake.tasks."""

from celery import shared_task

from leads.services.retention import idempotency_records_purge


@shared_task(name="leads.idempotency_records_purge")
def idempotency_records_purge_task() -> int:
    return idempotency_records_purge()

"""Thin Celery tasks for reports."""

import datetime as dt

from celery import shared_task

from reports import services


@shared_task(name="reports.tasks.send_feedback_friday")
def send_feedback_friday(week: str | None = None) -> int:
    """Beat, Fridays (see the "Feedback Friday email" periodic task): email each manager once per week."""
    return services.feedback_friday_send(week=dt.date.fromisoformat(week) if week else None)

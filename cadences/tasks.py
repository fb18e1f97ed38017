"""Thin Celery tasks of cadences (dispatch's own tasks live in messaging/tasks.py)."""

from celery import shared_task

from cadences.services import enrollments_resume_due as _enrollments_resume_due


@shared_task(name="cadences.enrollments_resume_due")
def enrollments_resume_due() -> int:
    """Beat, every minute: cadences paused by an out-of-office reply resume once its date passed."""
    return _enrollments_resume_due()

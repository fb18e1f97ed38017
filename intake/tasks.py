"""Background work for leads: thin tasks that call services with ids."""

from celery import shared_task

import reactions.mailbox_poll
from intake import imports


@shared_task(name="leads.import_job_run")
def import_job_run(job_id: int) -> None:
    # Not acks_late: a redelivered task would find the job running and do nothing; a failed job is
    # re-run from the progress page, which resumes where it stopped.
    imports.import_job_run(job_id=job_id)


@shared_task(name="intake.import_jobs_recover")
def import_jobs_recover() -> dict:
    """Beat, every minute: resume (or fail) imports whose worker or task was lost."""
    return imports.import_jobs_recover()


@shared_task(name="intake.mailbox_poll")
def mailbox_poll() -> dict:
    """Beat, every REPLY_IMAP_POLL_SECONDS when there is a reply mailbox: its new mail through the
    inbound entry point (reactions/mailbox_poll.py; a second poller at the same time does nothing)."""
    return reactions.mailbox_poll.mailbox_poll()

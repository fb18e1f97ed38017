"""The periodic tasks beat runs: declared here, synced into django-celery-beat's tables, where the
DatabaseScheduler reads them and the admin edits them ("Periodic tasks").

Who owns what:

- The code owns which periodic tasks exist, the Celery task each one runs and its default
  schedule. A row is known by its name: the admin, the tests and `make run` rely on these names.
- Once a row exists, its schedule and its enabled flag are the admin's: a sync never puts back an
  interval or crontab someone edited, nor re-enables a task someone disabled. A changed default
  below therefore reaches only new databases; an existing one gets it in the admin (or from a
  data migration written for that change).
- A row that a sync created and whose name is no longer declared here is deleted. Rows made by
  hand in the admin (and beat's own `celery.backend_cleanup`) are left alone: synced rows carry
  SYNCED_DESCRIPTION.

`schedules_sync()` runs after every `migrate` (a post_migrate receiver, see leadfollow/apps.py;
Django also sends post_migrate after a flush, so a new or flushed test database has the rows
without replaying a migration) and as `python manage.py sync_schedules`. It is idempotent: a
second run changes nothing. Tasks are named by string, so this module imports no task code.
"""

from dataclasses import dataclass, field

from django.apps import apps as global_apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

SYNCED_DESCRIPTION = (
    "Declared in leadfollow/schedules.py: its name and task come from the code; its schedule and "
    "enabled flag may be changed here and stay as set."
)


@dataclass(frozen=True)
class PeriodicSchedule:
    name: str  # PeriodicTask.name: the row's identity
    task: str  # the Celery task's registered name
    every_seconds: int | None = None
    # CrontabSchedule fields; the time is the organisation's (settings.TIME_ZONE when the row is made).
    crontab: dict[str, str] = field(default_factory=dict)


SCHEDULES = (
    PeriodicSchedule("Send automated touches that are due", "cadences.dispatch_due", every_seconds=5),
    # Every 5 s: a dead worker's touches are free within a lease (15 s; within seconds once it restarted),
    # and the reconciler is what hands them back (cadences/migrations/0007 moved old databases off 60 s).
    PeriodicSchedule("Settle touches left in 'sending' by a dead worker", "cadences.reconcile_stuck", every_seconds=5),
    # Housekeeping (README "Guarantees", Data kept): recoveries every minute, purges at night.
    PeriodicSchedule("Resume imports whose worker stopped", "intake.import_jobs_recover", every_seconds=60),
    PeriodicSchedule(
        "Apply status callbacks that came before their text was recorded",
        "messaging.early_status_callbacks_settle",
        every_seconds=60,
    ),
    PeriodicSchedule(
        "Resume cadences whose out-of-office pause ended", "cadences.enrollments_resume_due", every_seconds=60
    ),
    PeriodicSchedule(
        "Purge expired idempotency keys",
        "leads.idempotency_records_purge",
        crontab={"minute": "10", "hour": "3", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"},
    ),
    PeriodicSchedule(
        "Clear the claims of touches finished long ago",
        "messaging.touch_claims_clear",
        crontab={"minute": "20", "hour": "3", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"},
    ),
    # Fridays 16:00 organisation time.
    PeriodicSchedule(
        "Feedback Friday email",
        "reports.tasks.send_feedback_friday",
        crontab={"minute": "0", "hour": "16", "day_of_week": "5", "day_of_month": "*", "month_of_year": "*"},
    ),
)

# The reply mailbox (reactions/mailbox_poll.py), only where there is one. Its interval, like every
# row's, is the admin's once made: a changed REPLY_IMAP_POLL_SECONDS reaches new databases only.
if settings.REPLY_IMAP_HOST:
    SCHEDULES += (
        PeriodicSchedule(
            "Read the reply mailbox", "intake.mailbox_poll", every_seconds=settings.REPLY_IMAP_POLL_SECONDS
        ),
    )


def _first_or_create(model, using: str, **fields):
    # Not get_or_create: nothing makes schedule rows unique, and the admin may have made a twin.
    return model.objects.using(using).filter(**fields).first() or model.objects.using(using).create(**fields)


def _default_schedule(declared: PeriodicSchedule, using: str) -> dict:
    if declared.every_seconds is not None:
        every = _first_or_create(IntervalSchedule, using, every=declared.every_seconds, period=IntervalSchedule.SECONDS)
        return {"interval": every}
    return {"crontab": _first_or_create(CrontabSchedule, using, timezone=settings.TIME_ZONE, **declared.crontab)}


def schedules_sync(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Make django-celery-beat's rows match SCHEDULES (see the module docstring). Returns one line
    per change, an empty list when everything was in place."""
    changes = []
    rows = PeriodicTask.objects.using(using)
    with transaction.atomic(using=using):
        for declared in SCHEDULES:
            row = rows.filter(name=declared.name).first()
            if row is None:
                rows.create(
                    name=declared.name,
                    task=declared.task,
                    description=SYNCED_DESCRIPTION,
                    enabled=True,
                    **_default_schedule(declared, using),
                )
                changes.append(f"Created {declared.name!r} ({declared.task}).")
            elif (row.task, row.description) != (declared.task, SYNCED_DESCRIPTION):
                row.task, row.description = declared.task, SYNCED_DESCRIPTION
                row.save(update_fields=["task", "description"])
                changes.append(f"Updated {declared.name!r} ({declared.task}).")
        undeclared = rows.filter(description=SYNCED_DESCRIPTION).exclude(name__in=[s.name for s in SCHEDULES])
        for row in undeclared:
            row.delete()
            changes.append(f"Deleted {row.name!r}: no longer declared.")
    return changes


def schedules_sync_after_migrate(
    *, apps=global_apps, using=DEFAULT_DB_ALIAS, verbosity=1, stdout=None, **kwargs
) -> None:
    """post_migrate receiver (sender: django_celery_beat): sync once beat's tables exist. `migrate`
    passes the migrated state's apps; `flush` passes none."""
    try:
        apps.get_model("django_celery_beat", "PeriodicTask")
    except LookupError:  # migrated back to before django_celery_beat's tables
        return
    for line in schedules_sync(using=using):
        if verbosity >= 1 and stdout is not None:
            stdout.write(f"  Periodic tasks: {line}\n")

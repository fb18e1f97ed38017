"""Periodic schedules declared in leadfollow/schedules.py and synced into django-celery-beat."""

import io

import pytest
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from leadfollow.celery import app as celery_app
from leadfollow.schedules import SCHEDULES, SYNCED_DESCRIPTION, schedules_sync

pytestmark = pytest.mark.django_db

DISPATCH = "Send automated touches that are due"
RECONCILE = "Settle touches left in 'sending' by a dead worker"
FRIDAY = "Feedback Friday email"
DECLARED = {s.name for s in SCHEDULES}


def rows():
    return {task.name: task for task in PeriodicTask.objects.select_related("interval", "crontab")}


def test_a_migrated_database_has_the_declared_schedules():
    tasks = rows()
    assert (tasks[DISPATCH].task, tasks[DISPATCH].interval.every, tasks[DISPATCH].interval.period) == (
        "cadences.dispatch_due",
        5,
        "seconds",
    )
    assert (tasks[RECONCILE].task, tasks[RECONCILE].interval.every) == ("cadences.reconcile_stuck", 5)
    friday = tasks[FRIDAY]
    assert friday.task == "reports.tasks.send_feedback_friday"
    assert (friday.crontab.minute, friday.crontab.hour, friday.crontab.day_of_week) == ("0", "16", "5")
    assert str(friday.crontab.timezone) == "America/New_York"
    assert all(tasks[name].enabled for name in (DISPATCH, RECONCILE, FRIDAY))


def test_the_housekeeping_schedules():
    """Issue 15: recoveries every minute, purges nightly (organisation time)."""
    tasks = rows()
    every_minute = {
        "Resume imports whose worker stopped": "intake.import_jobs_recover",
        "Apply status callbacks that came before their text was recorded": "messaging.early_status_callbacks_settle",
    }
    for name, task in every_minute.items():
        assert (tasks[name].task, tasks[name].interval.every, tasks[name].interval.period) == (task, 60, "seconds")
    nightly = {
        "Purge expired idempotency keys": ("leads.idempotency_records_purge", "10"),
        "Clear the claims of touches finished long ago": ("messaging.touch_claims_clear", "20"),
    }
    for name, (task, minute) in nightly.items():
        crontab = tasks[name].crontab
        assert (tasks[name].task, crontab.minute, crontab.hour, crontab.day_of_week) == (task, minute, "3", "*")
        assert tasks[name].enabled


def test_every_declared_task_exists():
    celery_app.loader.import_default_modules()
    assert {s.task for s in SCHEDULES} <= set(celery_app.tasks)


def test_sync_is_idempotent():
    assert schedules_sync() == []
    before = (PeriodicTask.objects.count(), IntervalSchedule.objects.count(), CrontabSchedule.objects.count())
    assert schedules_sync() == []
    after = (PeriodicTask.objects.count(), IntervalSchedule.objects.count(), CrontabSchedule.objects.count())
    assert after == before


def test_sync_keeps_an_admins_schedule_and_enabled_flag():
    every_ten, _ = IntervalSchedule.objects.get_or_create(every=10, period=IntervalSchedule.SECONDS)
    dispatch = PeriodicTask.objects.get(name=DISPATCH)
    dispatch.interval = every_ten
    dispatch.save()
    PeriodicTask.objects.filter(name=FRIDAY).update(enabled=False)
    assert schedules_sync() == []
    tasks = rows()
    assert tasks[DISPATCH].interval.every == 10
    assert not tasks[FRIDAY].enabled


def test_sync_puts_back_a_missing_row_and_the_declared_task():
    PeriodicTask.objects.filter(name=RECONCILE).delete()
    PeriodicTask.objects.filter(name=DISPATCH).update(task="cadences.old_name", description="")
    changes = schedules_sync()
    assert len(changes) == 2
    tasks = rows()
    assert (tasks[RECONCILE].task, tasks[RECONCILE].interval.every) == ("cadences.reconcile_stuck", 5)
    assert tasks[DISPATCH].task == "cadences.dispatch_due"


def test_sync_deletes_its_own_undeclared_rows_only():
    every_hour, _ = IntervalSchedule.objects.get_or_create(every=3600, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="Retired", task="cadences.retired", interval=every_hour, description=SYNCED_DESCRIPTION
    )
    PeriodicTask.objects.create(
        name="Made in the admin", task="reports.tasks.send_feedback_friday", interval=every_hour
    )
    assert schedules_sync() == ["Deleted 'Retired': no longer declared."]
    assert set(rows()) == DECLARED | {"Made in the admin"}


def test_post_migrate_restores_the_rows():
    """Also what happens after a transactional test's flush: no migration is replayed."""
    PeriodicTask.objects.all().delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert set(rows()) == DECLARED


def test_sync_schedules_command():
    PeriodicTask.objects.filter(name=FRIDAY).delete()
    out = io.StringIO()
    call_command("sync_schedules", stdout=out)
    assert out.getvalue() == "Created 'Feedback Friday email' (reports.tasks.send_feedback_friday).\n"
    out = io.StringIO()
    call_command("sync_schedules", stdout=out)
    assert out.getvalue() == "Periodic tasks already in sync.\n"

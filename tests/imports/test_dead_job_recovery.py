"""An import whose worker died is resumed (or failed) by the periodic import_jobs_recover, never left
"Importing" (issue 15); running the recovery again changes nothing more."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from intake import imports
from intake.tasks import import_jobs_recover
from leads.models import ImportJob, Lead

pytestmark = pytest.mark.django_db

ROWS = 60  # more than PROGRESS_EVERY: progress is saved every 25 rows
CSV = "first_name,phone\n" + "".join(f"Row{i},+1415555{i:04d}\n" for i in range(ROWS))


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside the run: nothing after it runs, no except clause catches it."""


@pytest.fixture
def job(manager, web_source, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the upload's own task is lost with the worker
        return imports.import_job_create(created_by=manager, filename="big.csv", raw=CSV.encode(), source=web_source)


def kill_worker_at(monkeypatch, *, row: int):
    """The worker dies while importing data row `row` (1-based), after rows before it were committed."""
    real_intake = imports.lead_intake
    calls = []

    def intake(**kwargs):
        calls.append(kwargs["first_name"])
        if len(calls) == row:
            raise WorkerKilled
        return real_intake(**kwargs)

    monkeypatch.setattr(imports, "lead_intake", intake)


def test_a_job_whose_worker_died_is_resumed_and_finishes_with_every_row_once(
    job, monkeypatch, django_capture_on_commit_callbacks
):
    kill_worker_at(monkeypatch, row=40)
    with pytest.raises(WorkerKilled):
        imports.import_job_run(job_id=job.pk)
    monkeypatch.undo()
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == (ImportJob.Status.RUNNING, 25)  # the last progress saved
    assert Lead.objects.count() == 39  # rows 26–39 were committed after it

    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs_recover() == {"resumed": 0, "failed": 0, "requeued": 0}  # not stalled yet
    later = timezone.now() + imports.IMPORT_STALLED_AFTER + dt.timedelta(seconds=1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert import_jobs_recover() == {"resumed": 1, "failed": 0, "requeued": 0}

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert job.processed_rows == job.total_rows == ROWS
    # The rows committed after the last save meet themselves: duplicates, never a second lead.
    assert (job.created_count, job.duplicate_count, job.error_count) == (25 + 21, 14, 0)
    assert Lead.objects.count() == ROWS
    assert job.warnings == ["The import stopped after 25 rows when its worker stopped, and was resumed automatically."]

    with (
        time_machine.travel(later + imports.IMPORT_STALLED_AFTER * 2),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert import_jobs_recover() == {"resumed": 0, "failed": 0, "requeued": 0}  # a second run: nothing


def test_a_job_that_dies_again_where_it_was_resumed_is_failed_with_a_reason(
    job, monkeypatch, django_capture_on_commit_callbacks
):
    start = timezone.now()
    for attempt in range(2):
        kill_worker_at(monkeypatch, row=5)  # the same rows kill the worker every time
        with time_machine.travel(start + attempt * 2 * imports.IMPORT_STALLED_AFTER, tick=False):
            with pytest.raises(WorkerKilled):
                imports.import_job_run(job_id=job.pk)
        monkeypatch.undo()
        when = start + (attempt * 2 + 1) * imports.IMPORT_STALLED_AFTER + dt.timedelta(seconds=1)
        with time_machine.travel(when, tick=False), django_capture_on_commit_callbacks(execute=False):
            counts = import_jobs_recover()
    assert counts == {"resumed": 0, "failed": 1, "requeued": 0}
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.finished_at
    assert job.failure_reason.startswith("Stopped twice after 0 rows")
    with time_machine.travel(when + imports.IMPORT_STALLED_AFTER, tick=False):
        assert import_jobs_recover() == {"resumed": 0, "failed": 0, "requeued": 0}


def test_a_waiting_job_whose_task_was_lost_is_queued_again(job, django_capture_on_commit_callbacks):
    later = timezone.now() + imports.IMPORT_STALLED_AFTER + dt.timedelta(seconds=1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert import_jobs_recover() == {"resumed": 0, "failed": 0, "requeued": 1}
    job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportJob.Status.DONE, ROWS)
    with time_machine.travel(later + imports.IMPORT_STALLED_AFTER * 2):
        assert import_jobs_recover() == {"resumed": 0, "failed": 0, "requeued": 0}


def test_a_stalled_run_that_wakes_up_after_the_job_was_resumed_stops(job, monkeypatch):
    """The watchdog gave the job to another run while this one was frozen: this one must not go on beside it."""
    real_intake = imports.lead_intake
    calls = []

    def frozen_then_thawed(**kwargs):
        calls.append(1)
        if len(calls) == 30:  # frozen here for longer than IMPORT_STALLED_AFTER; the watchdog acts
            later = timezone.now() + imports.IMPORT_STALLED_AFTER + dt.timedelta(seconds=1)
            assert imports.import_jobs_recover(now=later)["resumed"] == 1
        return real_intake(**kwargs)

    monkeypatch.setattr(imports, "lead_intake", frozen_then_thawed)
    assert imports.import_job_run(job_id=job.pk) is None  # stopped at its next progress save (row 50)
    assert len(calls) == 50
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == (ImportJob.Status.PENDING, 25)  # the resumed run's to take
    monkeypatch.undo()
    imports.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, Lead.objects.count()) == (ImportJob.Status.DONE, ROWS, ROWS)

"""CSV import of leads: read and check an upload, then run it row by row in the background.

Flow: `import_job_create` decodes the file, matches its header and counts its rows while the
manager waits (so a wrong file is refused with nothing saved), stores the text in an ImportJob
and enqueues `intake.tasks.import_job_run`. `import_job_run` feeds each row to `lead_intake`
(via="csv"), so imported rows are deduplicated against open leads exactly like the form and
the API; importing the same file twice creates nothing the second time.
"""

import csv
import datetime as dt
import io
import logging
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Role, User
from leads.csv_safe import csv_safe_writer
from leads.models import ImportJob, LeadSource
from leads.selectors import users_assignable_by
from reactions.intake import lead_intake

logger = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 5 * 1024 * 1024
ALLOWED_EXTENSIONS = (".csv", ".txt", ".tsv")
# Progress is saved every this many rows (every row for files up to this size).
PROGRESS_EVERY = 25
# Per-row reasons kept on the job; the counts stay exact beyond it.
MAX_STORED_ERRORS = 2000
# A job running or waiting this long without progress lost its worker or its task (import_jobs_recover).
IMPORT_STALLED_AFTER = dt.timedelta(minutes=5)

# Header spellings, compared after lower-casing and dropping everything but letters and digits.
COLUMN_SYNONYMS = {
    "first_name": {"firstname", "first", "givenname", "fname", "forename"},
    "last_name": {"lastname", "last", "surname", "familyname", "lname"},
    "full_name": {"name", "fullname", "contactname", "leadname"},
    "phone": {"phone", "phonenumber", "mobile", "mobilephone", "mobilenumber", "cell", "cellphone", "telephone", "tel"},
    "email": {"email", "emailaddress", "mail"},
    "company": {"company", "companyname", "organization", "organisation", "business", "account"},
    "how_heard": {"howheard", "howdidyouhearaboutus", "howdidyouhear", "heardfrom", "referralsource", "leadsource"},
    "interest": {"interest", "whyareyoucontactingus", "reason", "message", "inquiry", "enquiry", "comments", "notes"},
    "timezone": {"timezone", "tz", "timezonename"},
    "twitter_handle": {"twitter", "twitterhandle", "x", "xhandle", "twitterx"},
    "linkedin_url": {"linkedin", "linkedinurl", "linkedinprofile"},
}
_HEADER_TO_FIELD = {spelling: name for name, spellings in COLUMN_SYNONYMS.items() for spelling in spellings}
_BINARY_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")


@dataclass
class ParsedFile:
    text: str
    total_rows: int
    columns: list[str]
    warnings: list[str] = field(default_factory=list)


# --- Reading the upload --------------------------------------------------------------------------


def import_file_decode(raw: bytes) -> tuple[str, list[str]]:
    """Bytes → text: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252/Latin-1 with a warning."""
    if not raw.strip():
        raise ValidationError({"file": ["The file is empty."]})
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), []
        except UnicodeDecodeError:
            raise ValidationError({"file": ["The file claims to be UTF-16 but is not readable as text."]}) from None
    if raw.startswith(_BINARY_SIGNATURES) or b"\x00" in raw[:8192]:
        raise ValidationError(
            {
                "file": [
                    "This is not a CSV file (it looks like a spreadsheet or another binary file). "
                    "In Excel or Sheets, use “Save as / Download → CSV” and upload that."
                ]
            }
        )
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    for encoding, label in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, [
            f"The file is not UTF-8; it was read as {label}. Check that accented names look right, "
            "or save the file as “CSV UTF-8” and import it again."
        ]
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _normalise_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (name or "").lower())


def _delimiter_for(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _reader(text: str):
    first_line = text.split("\n", 1)[0]
    return csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter_for(first_line))


def column_map(header: list[str]) -> dict[str, list[int]]:
    """Field name → the column indexes that hold it, in file order (e.g. "Phone" and "Mobile")."""
    found: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        field_name = _HEADER_TO_FIELD.get(_normalise_header(name))
        if field_name:
            found.setdefault(field_name, []).append(index)
    return found


def _missing_columns(columns: dict[str, list[int]]) -> list[str]:
    missing = []
    if "first_name" not in columns and "full_name" not in columns:
        missing.append("first name (or name)")
    if "phone" not in columns and "email" not in columns:
        missing.append("phone or email")
    return missing


def _is_blank(row: list[str]) -> bool:
    return not any(cell.strip() for cell in row)


def _data_rows(text: str):
    """(spreadsheet row number, cells) for each non-blank data row; the header is row 1."""
    reader = _reader(text)
    next(reader, None)
    for number, row in enumerate(reader, start=2):
        if not _is_blank(row):
            yield number, row


def import_file_parse(*, raw: bytes, filename: str) -> ParsedFile:
    """Check an upload completely before anything is saved; raise ValidationError({"file": [...]}) if unusable."""
    if not filename.lower().endswith(ALLOWED_EXTENSIONS):
        raise ValidationError({"file": ["Upload a .csv file (comma, semicolon or tab separated)."]})
    if len(raw) > MAX_IMPORT_BYTES:
        raise ValidationError(
            {"file": [f"The file is too large ({len(raw) / 1024 / 1024:.1f} MB); the limit is 5 MB. Split it."]}
        )
    text, warnings = import_file_decode(raw)
    if "\x00" in text:
        # Only the start is sniffed for binary files; a null anywhere would fail to save (PostgreSQL text).
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ValidationError({"file": [f"The file contains a null character (line {line}); it is not a text CSV."]})
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        header = next(_reader(text), [])
        columns = column_map(header)
        missing = _missing_columns(columns)
        if missing:
            found = ", ".join(f"“{name.strip()}”" for name in header if name.strip()) or "none"
            raise ValidationError(
                {"file": [f"Missing required column(s): {'; '.join(missing)}. Columns found: {found}."]}
            )
        total = 0
        for _number, _row in _data_rows(text):
            total += 1
    except csv.Error as exc:
        raise ValidationError({"file": [f"This file is not a readable CSV: {exc}."]}) from None
    if total == 0:
        raise ValidationError({"file": ["The file has a header but no rows to import."]})
    return ParsedFile(text=text, total_rows=total, columns=[h.strip() for h in header], warnings=warnings)


# --- Creating and running jobs ---------------------------------------------------------------


def import_job_create(
    *, created_by: User, filename: str, raw: bytes, source: LeadSource | None = None, owner: User | None = None
) -> ImportJob:
    """Check the file and the choices, store the job, and start it once this transaction commits."""
    if not (created_by.is_manager or created_by.is_admin_role):
        raise ValidationError("Only managers and admins import leads.")
    if owner is not None and not users_assignable_by(created_by).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": ["You cannot give leads to this person."]})
    if owner is None and not created_by.is_admin_role:
        # A manager's imported leads must land in a team they manage, or they could not see them.
        if source is None or source.team_id is None or not created_by.managed_teams.filter(pk=source.team_id).exists():
            raise ValidationError(
                {"owner": ["Pick an owner, or a lead source of a team you manage, so the leads land in your team."]}
            )
    parsed = import_file_parse(raw=raw, filename=filename)
    job = ImportJob.objects.create(
        created_by=created_by,
        source=source,
        owner=owner,
        filename=filename[:255],
        content=parsed.text,
        total_rows=parsed.total_rows,
        warnings=parsed.warnings,
        progress_at=timezone.now(),  # queued: import_jobs_recover queues it again if its task is lost
    )
    _import_job_enqueue(job)
    return job


def _row_values(row: list[str], columns: dict[str, list[int]]) -> dict[str, str]:
    values = {}
    for field_name, indexes in columns.items():
        cells = [row[i].strip() for i in indexes if i < len(row)]
        values[field_name] = next((c for c in cells if c), "")
    full_name = values.pop("full_name", "")
    if full_name and not values.get("first_name"):
        first, _, last = full_name.partition(" ")
        values["first_name"] = first
        values.setdefault("last_name", "")
        values["last_name"] = values["last_name"] or last.strip()
    if "timezone" in values:
        values["timezone_name"] = values.pop("timezone")
    return values


def _reason(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Import the job's rows, one transaction per row, saving progress as it goes.

    1. Claim the job (pending or failed → running) with a conditional update, so a job enqueued
       twice runs once; a done or running job is left alone.
    2. Skip the rows a failed earlier run already counted (resume), then for each row call
       `lead_intake`: created, duplicate (landed on an open lead) or error with a reason.
    3. Every PROGRESS_EVERY rows (every row for small files) save the counters for the progress bar.
    4. Finish as done; an unexpected exception stops the job as failed with the reason. Rows
       committed after the last saved progress are met again on a re-run and count as duplicates.

    Each save also stamps `progress_at`, and only succeeds while it still holds the stamp this run
    wrote last: a run stalled so long that `import_jobs_recover` resumed the job elsewhere stops at
    its next save instead of importing beside the new run.
    """
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportJob.Status.PENDING, ImportJob.Status.FAILED]
    ).update(status=ImportJob.Status.RUNNING, failure_reason="", finished_at=None, progress_at=timezone.now())
    if not claimed:
        return None
    job = ImportJob.objects.select_related("source", "owner", "created_by").get(pk=job_id)
    every = 1 if job.total_rows <= PROGRESS_EVERY else PROGRESS_EVERY
    row_number = None
    try:
        header = next(_reader(job.content), [])
        columns = column_map(header)
        done_before = job.processed_rows
        for index, (row_number, row) in enumerate(_data_rows(job.content), start=1):
            if index <= done_before:
                continue
            try:
                with transaction.atomic():
                    result = lead_intake(
                        **_row_values(row, columns),
                        source=job.source,
                        owner=job.owner,
                        via="csv",
                        actor=job.created_by,
                    )
            except ValidationError as exc:
                job.error_count += 1
                if len(job.errors) < MAX_STORED_ERRORS:
                    job.errors.append({"row": row_number, "reason": _reason(exc)})
            else:
                if result.created:
                    job.created_count += 1
                else:
                    job.duplicate_count += 1
            job.processed_rows = index
            if index % every == 0 and not _progress_save(job):
                logger.warning("Import job %s was resumed by another run; this one stops at row %s", job_id, row_number)
                return None
    except Exception as exc:
        logger.exception("Import job %s stopped at row %s", job_id, row_number)
        where = f"Stopped at row {row_number}" if row_number else "Stopped"
        job.status = ImportJob.Status.FAILED
        job.failure_reason = f"{where}: {type(exc).__name__}: {exc}"[:500]
        job.finished_at = timezone.now()
        _progress_save(job, "status", "failure_reason", "finished_at")
        return job
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    return job if _progress_save(job, "status", "finished_at") else None


PROGRESS_FIELDS = ("processed_rows", "created_count", "duplicate_count", "error_count", "errors")


def _progress_save(job: ImportJob, *fields: str) -> bool:
    """Save the counters and `fields` if this run still holds the job (see import_job_run)."""
    held = job.progress_at
    job.progress_at = timezone.now()
    values = {name: getattr(job, name) for name in (*PROGRESS_FIELDS, *fields, "progress_at")}
    return bool(ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING, progress_at=held).update(**values))


def import_jobs_recover(*, now: dt.datetime | None = None) -> dict:
    """Jobs whose worker or task was lost, found by a periodic task; running it again changes nothing.

    1. Running, with no progress saved for IMPORT_STALLED_AFTER (progress is saved every
       PROGRESS_EVERY rows, seconds apart): its worker died (the task is not redelivered) or froze.
       It goes back to waiting and is queued again: the run resumes after the rows already counted,
       and rows committed after the last save meet themselves as duplicates (intake deduplicates).
       A job that stalls again before it saved any progress since it was resumed is failed with the
       reason instead (what follows, not the worker, is the trouble): a manager can run it again
       from its page, which resumes it the same way.
    2. Waiting, queued (or re-queued) longer ago than that: its task was lost with the broker; it is
       queued again (a duplicate task finds the job taken and does nothing).
    """
    now = now or timezone.now()
    stalled = now - IMPORT_STALLED_AFTER
    quiet = Q(progress_at__lt=stalled) | Q(progress_at__isnull=True, created_at__lt=stalled)
    counts = {"resumed": 0, "failed": 0, "requeued": 0}
    for job in ImportJob.objects.filter(quiet, status=ImportJob.Status.RUNNING).defer("content"):
        mine = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING, progress_at=job.progress_at)
        done = job.processed_rows
        if job.auto_resumed_at_row == done:
            reason = (
                f"Stopped twice after {done} rows (its worker stopped, then again once resumed): check the rows "
                "after those, then run the import again."
            )
            counts["failed"] += mine.update(status=ImportJob.Status.FAILED, failure_reason=reason, finished_at=now)
            continue
        note = f"The import stopped after {done} rows when its worker stopped, and was resumed automatically."
        if mine.update(
            status=ImportJob.Status.PENDING,
            auto_resumed_at_row=job.processed_rows,
            progress_at=now,
            warnings=[*job.warnings, note],
        ):
            _import_job_enqueue(job)
            counts["resumed"] += 1
    for job in ImportJob.objects.filter(quiet, status=ImportJob.Status.PENDING).defer("content"):
        if ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PENDING).update(progress_at=now):
            _import_job_enqueue(job)
            counts["requeued"] += 1
    if any(counts.values()):
        logger.warning("Import jobs recovered: %s", counts)
    return counts


def import_job_retry(*, job: ImportJob) -> ImportJob:
    """Run a failed job again from where it stopped."""
    if job.status != ImportJob.Status.FAILED:
        raise ValidationError("Only a failed import can be run again.")
    _import_job_enqueue(job)
    return job


def import_errors_csv(*, job: ImportJob) -> str:
    """The rows that were not imported, as they were in the file, with the row number and the reason."""
    reasons = {entry["row"]: entry["reason"] for entry in job.errors}
    out = io.StringIO()
    # The rows as uploaded, but a cell that would run as a formula in a spreadsheet is neutralised.
    writer = csv_safe_writer(out)
    header = next(_reader(job.content), [])
    writer.writerow(["row", "reason", *header])
    for number, row in _data_rows(job.content):
        if number in reasons:
            writer.writerow([number, reasons[number], *row])
    return out.getvalue()


# --- Reads (imports are only seen by their creator and admins) -----------------------------------


def import_jobs_visible_to(user: User) -> QuerySet[ImportJob]:
    if not user.is_authenticated or not user.is_active:
        return ImportJob.objects.none()
    jobs = ImportJob.objects.select_related("created_by", "source", "owner")
    if user.is_superuser or user.role == Role.ADMIN:
        return jobs
    return jobs.filter(created_by=user)


def import_job_get_for(user: User, pk, *, with_content: bool = True) -> ImportJob:
    """The job `pk` if `user` may see it, else 404. The stored file (up to 5 MB) is loaded only if asked."""
    jobs = import_jobs_visible_to(user)
    if not with_content:
        jobs = jobs.defer("content")
    try:
        return jobs.get(pk=pk)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise Http404("No such import.") from None


def _import_job_enqueue(job: ImportJob) -> None:
    # A Celery task enqueued from a service: intake.tasks imports this module, so the import waits until here.
    from intake.tasks import import_job_run as import_job_run_task

    import_job_run_task.delay_on_commit(job.pk)

"""Bad input (hypothesis): odd Unicode, huge fields, malformed phones and emails, wrong encodings.

Whatever comes in through the intake service, the phone intake form or a CSV import: never a
500, never half a lead (a lead and its first timeline entry are saved together or not at all),
and errors name the field they are about. Oversized bodies are refused cleanly.
"""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake import imports
from leads.models import ImportJob, Lead, LeadEvent
from leads.services.api_keys import lead_source_issue_api_key
from leads.services.intake import FIELD_LIMITS
from reactions.intake import lead_intake


def fast(max_examples):
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


INTAKE_FIELDS = {
    "first_name",
    "last_name",
    "phone",
    "email",
    "company",
    "how_heard",
    "interest",
    "timezone",
    "twitter_handle",
    "linkedin_url",
}

ODD = [
    "\u202eesreveR",  # right-to-left override
    "\u05e9\u05dc\u05d5\u05dd",  # Hebrew
    "\u0645\u0631\u062d\u0628\u0627",  # Arabic
    "\U0001f600\U0001f468\u200d\U0001f469\u200d\U0001f467",  # emoji, ZWJ sequence
    "e\u0301\u0301\u0301\u0301",  # stacked combining accents
    "\u200b\u200c\u200d\ufeff",  # zero-width characters
    "\x00",
    "a\x00b",
    "\t\r\n",
    "'; DROP TABLE leads_lead; --",
    "<script>alert(1)</script>",
    "{{ lead.first_name }}",
    "x" * 5000,
    "\U0010ffff",
    "\ufffd",
]
odd_text = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=300),
    st.builds(lambda a, b: a + b, st.sampled_from(ODD), st.text(max_size=20)),
)
phones = st.one_of(
    odd_text,
    st.sampled_from(
        [
            "",
            "+",
            "++14155550100",
            "(415) 555-0100",
            "415-555-01OO",
            "+1 415 555 0100 ext. 9",
            "0" * 40,
            "+999999999999999",
            "+44 20 7946 0958",
            "tel:+14155550100",
            "\u0664\u0661\u0665\u0665\u0665\u0665\u0660\u0661\u0660\u0660",  # Arabic-Indic digits
        ]
    ),
    st.from_regex(r"\+?[0-9 ()\-.]{0,25}", fullmatch=True),
)
emails = st.one_of(
    odd_text,
    st.emails(),
    st.sampled_from(["a@", "@b.com", "a@b", "a b@c.com", "a@b..com", "x" * 250 + "@e.com", "Ünïcode@exämple.com"]),
)


intake_values = st.fixed_dictionaries(
    {
        "first_name": odd_text,
        "last_name": odd_text,
        "phone": phones,
        "email": emails,
        "company": odd_text,
        "how_heard": odd_text,
        "interest": odd_text,
        "timezone_name": st.one_of(st.sampled_from(["", "America/Chicago", "Mars/Olympus", "../etc/passwd"]), odd_text),
        "twitter_handle": odd_text,
        "linkedin_url": st.one_of(odd_text, st.sampled_from(["https://linkedin.com/in/x", "javascript:alert(1)"])),
    }
)


@fast(250)
@given(values=intake_values)
def test_the_intake_service_saves_a_whole_lead_or_names_the_bad_fields(web_source, rep, values):
    leads, events = Lead.objects.count(), LeadEvent.objects.count()
    try:
        result = lead_intake(**values, source=web_source, owner=rep, via="form", actor=rep)
    except ValidationError as exc:
        assert hasattr(exc, "error_dict"), exc
        assert set(exc.message_dict) <= INTAKE_FIELDS, exc.message_dict
        assert all(exc.message_dict.values())
        assert (Lead.objects.count(), LeadEvent.objects.count()) == (leads, events)
        return
    lead = Lead.objects.get(pk=result.lead.pk)
    assert Lead.objects.count() == leads + (1 if result.created else 0)
    assert LeadEvent.objects.filter(lead=lead).exists()
    for name, limit in FIELD_LIMITS.items():
        assert len(getattr(lead, name)) <= limit
    assert "\x00" not in lead.full_name + lead.company + lead.interest
    assert not lead.phone or lead.phone.startswith("+")


form_values = st.fixed_dictionaries(
    {
        "first_name": odd_text,
        "last_name": odd_text,
        "phone": phones,
        "how_heard": odd_text,
        "interest": odd_text,
        "email": emails,
        "company": odd_text,
        "timezone": st.sampled_from(["", "America/Chicago", "Nowhere/Land", "\x00"]),
        "linkedin_url": st.sampled_from(["", "https://linkedin.com/in/x", "javascript:alert(1)", "x" * 300]),
    }
)


@fast(60)
@given(values=form_values)
def test_the_phone_intake_form_never_fails_and_never_saves_half(client_for, rep, values):
    client = client_for(rep)
    leads, events = Lead.objects.count(), LeadEvent.objects.count()
    response = client.post("/leads/new/", values)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        # The form again, with its errors next to their fields; nothing saved.
        assert response.context["form"].errors
        assert set(response.context["form"].errors) <= INTAKE_FIELDS | {"__all__", "source", "owner"}
        assert (Lead.objects.count(), LeadEvent.objects.count()) == (leads, events)
    else:
        assert Lead.objects.count() in (leads, leads + 1)


# --- CSV import ---------------------------------------------------------------------------------


def _csv_bytes(rows, encoding, delimiter) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["First name", "Last name", "Phone", "Email", "Company", "Interest"])
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding, errors="replace")


csv_rows = st.lists(st.tuples(odd_text, odd_text, phones, emails, odd_text, odd_text).map(list), min_size=1, max_size=8)


@fast(60)
@given(
    rows=csv_rows,
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_a_csv_import_imports_each_row_whole_or_reports_it(manager, web_source, rows, encoding, delimiter):
    raw = _csv_bytes(rows, encoding, delimiter)
    leads, events = Lead.objects.count(), LeadEvent.objects.count()
    try:
        job = imports.import_job_create(created_by=manager, filename="odd.csv", raw=raw, source=web_source)
    except ValidationError as exc:
        assert set(exc.message_dict) == {"file"}, exc.message_dict
        assert Lead.objects.count() == leads
        return
    job = imports.import_job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.DONE, job.failure_reason
    assert job.processed_rows == job.total_rows
    assert job.created_count + job.duplicate_count + job.error_count == job.total_rows
    assert Lead.objects.count() == leads + job.created_count
    # Each created or duplicate row added exactly one inquiry to the timeline; refused rows none.
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.INQUIRY).count() - events <= (
        job.created_count + job.duplicate_count
    )
    assert all(error["reason"].strip() for error in job.errors)
    csv_report = imports.import_errors_csv(job=job)
    assert csv_report.count("\n") >= job.error_count


@fast(80)
@given(raw=st.one_of(st.binary(max_size=2000), st.binary(max_size=50).map(lambda b: b"first_name,phone\n" + b)))
def test_any_bytes_as_a_csv_are_a_clear_file_error_or_an_import(manager, web_source, raw):
    try:
        job = imports.import_job_create(created_by=manager, filename="bytes.csv", raw=raw, source=web_source)
    except ValidationError as exc:
        assert set(exc.message_dict) == {"file"}
        return
    job = imports.import_job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.DONE, job.failure_reason


def test_a_null_character_deep_in_a_csv_is_a_file_error_not_a_500(client_for, manager, web_source):
    """Regression: NUL bytes were only looked for in the first 8 KB; PostgreSQL refuses them in text."""
    rows = "".join(f"Lead{i},+1415555{i:04d}\n" for i in range(600))
    raw = ("first_name,phone\n" + rows + "Nul\x00Name,+14155559999\n").encode()
    assert len(raw) > 8192
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("deep-nul.csv", raw, content_type="text/csv")
    response = client_for(manager).post("/leads/import/", {"file": upload, "source": web_source.pk})
    assert response.status_code == 400
    assert "null" in response.content.decode().lower()
    assert not ImportJob.objects.exists()
    assert not Lead.objects.filter(first_name__startswith="Lead").exists()


# --- Oversized bodies -------------------------------------------------------------------------------


@pytest.fixture
def small_body_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_an_oversized_api_body_is_413_and_saves_nothing(client, web_source, small_body_limit):
    key = lead_source_issue_api_key(source=web_source)
    body = '{"first_name": "Big", "phone": "+14155550111", "interest": "%s"}' % ("x" * (small_body_limit + 1))
    response = client.post("/api/leads/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 413
    assert not Lead.objects.exists()


def test_an_oversized_api_body_without_content_length_is_413(client, web_source, small_body_limit):
    key = lead_source_issue_api_key(source=web_source)
    body = ('{"first_name": "Big", "phone": "+14155550111", "interest": "%s"}' % ("x" * 30_000)).encode()
    response = client.generic(
        "POST",
        "/api/leads/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
        CONTENT_LENGTH="",
    )
    assert response.status_code in (400, 413)
    assert not Lead.objects.exists()


def test_an_oversized_form_post_is_400_and_saves_nothing(client_for, rep, small_body_limit):
    response = client_for(rep).post(
        "/leads/new/",
        {"first_name": "Big", "phone": "+14155550111", "how_heard": "x", "interest": "y" * (small_body_limit + 1)},
    )
    assert response.status_code == 400
    assert not Lead.objects.exists()


def test_an_oversized_csv_is_refused_with_a_message(client_for, manager, web_source, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    monkeypatch.setattr(imports, "MAX_IMPORT_BYTES", 1000)
    raw = b"first_name,phone\n" + b"".join(b"Big%d,+1415555%04d\n" % (i, i) for i in range(100))
    upload = SimpleUploadedFile("big.csv", raw, content_type="text/csv")
    response = client_for(manager).post("/leads/import/", {"file": upload, "source": web_source.pk})
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert not ImportJob.objects.exists()


# --- Regressions found by the tests above ---------------------------------------------------------


@pytest.mark.parametrize("tz", ["America", "Europe", "x" * 300])
def test_a_timezone_that_is_a_folder_or_too_long_is_a_field_error_in_the_api(client, web_source, tz):
    """Regression: ZoneInfo("America") raises IsADirectoryError (an OSError): it was a 500."""
    key = lead_source_issue_api_key(source=web_source)
    response = client.post(
        "/api/leads/",
        {"first_name": "Tz", "phone": "+14155550123", "timezone": tz},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    assert response.status_code == 400
    assert "timezone" in response.json()
    assert not Lead.objects.exists()


def test_a_bad_timezone_cell_fails_its_row_not_the_whole_import(manager, web_source):
    """Regression: the OSError stopped the import job as failed at that row."""
    raw = (
        b"first_name,phone,timezone\nGood,+14155550124,America/Chicago\nBad,+14155550125,America\nAlso,+14155550126,\n"
    )
    job = imports.import_job_create(created_by=manager, filename="tz.csv", raw=raw, source=web_source)
    job = imports.import_job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.DONE
    assert (job.created_count, job.error_count) == (2, 1)
    assert job.errors[0]["row"] == 3
    assert "timezone" in job.errors[0]["reason"]

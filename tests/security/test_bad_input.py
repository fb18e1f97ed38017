"""Bad input (hypothesis): odd Unicode, huge fields, malformed phones and emails, wrong encodings.

Whatever comes in through the intake service, the phone intake form or a CSV import: never a
500, never half a lead (a lead and its first timeline entry are saved together or not at all),
and errors name the field they are about. Oversized bodies are refused cleanly.
"""

import csv
import io
import unicodedata

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadences.models import Touch, TouchStatus
from intake import imports
from leads.models import ImportJob, Lead, LeadEvent
from leads.services.api_keys import lead_source_issue_api_key
from leads.services.intake import FIELD_LIMITS
from leads.services.lifecycle import lead_note_add, lead_update
from messaging.services import rep_alert_new_lead
from messaging.tasks import touches_send_now
from reactions.inbound_sms import inbound_sms_receive
from reactions.intake import lead_intake
from tests import factories
from today.services import referral_call_log


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


# --- Control characters: cleaned on the way in, so nothing breaks later (issue 15) ----------------
#
# Regression: a name with CR/LF was accepted (201) and then failed the lead's welcome email for good
# ("Header values can't contain newlines") and the rep's new-lead alert; "Ctl\x01\x07\x1b[31m" went
# raw into an email subject. The input rule (leads/text.py) applies on every intake path.

CONTROL_SAMPLES = [
    "\r\n",
    "\n",
    "\r",
    "\x01\x07",
    "\x1b[31m",
    "\x1b]0;pwned\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9b2J",
    "\u2028",
    "\u2029",
    "\t",
    "\x0b\x0c",
    "\r\nBcc: victim@example.com\r\n",
]
controls = st.one_of(
    st.sampled_from(CONTROL_SAMPLES),
    st.text(st.characters(categories=["Cc"], exclude_characters="\x00"), min_size=1, max_size=4),
)
word = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8)
name_with_controls = st.builds(lambda a, ctl, b: a + ctl + b, word, controls, st.one_of(st.just(""), word))


def assert_one_clean_line(value: str) -> None:
    assert value == value.strip()
    assert not [c for c in value if unicodedata.category(c) == "Cc" or c in "\u2028\u2029"], repr(value)
    assert "[31m" not in value and "pwned" not in value


def welcome_email_sent(lead) -> mail.EmailMessage:
    """Send the lead's day-0 email the way the worker does; return what went out."""
    welcome = Touch.objects.filter(lead=lead, channel="email", automated=True).order_by("due_at", "id").first()
    mail.outbox.clear()
    assert touches_send_now([welcome.pk]) == {"sent": 1}
    welcome.refresh_from_db()
    assert welcome.status == TouchStatus.SENT, welcome.failure_reason
    [sent] = [m for m in mail.outbox if m.to == [lead.email]]
    assert "\n" not in sent.subject and "\r" not in sent.subject
    sent.message()  # renders as a real email: no header error
    return sent


_address = iter(range(10**6))


@fast(40)
@given(first=name_with_controls, last=name_with_controls, company=name_with_controls, how_heard=name_with_controls)
def test_the_api_accepts_names_with_control_characters_cleaned_and_the_welcome_email_goes(
    client, web_source, rep, first, last, company, how_heard
):
    key = lead_source_issue_api_key(source=web_source)
    body = {
        "first_name": first,
        "last_name": last,
        "company": company,
        "how_heard": how_heard,
        "twitter_handle": "@x" + first,
        "email": f"lead{next(_address)}@example.com",
        "interest": "Line one\r\nLine two\x1b[1m\x07",
    }
    response = client.post("/api/leads/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["id"])
    for value in (lead.first_name, lead.last_name, lead.company, lead.how_heard, lead.twitter_handle):
        assert_one_clean_line(value)
    assert lead.first_name and lead.first_name[0] == first[0]
    assert lead.interest == "Line one\nLine two"  # free text keeps its lines, loses the controls
    sent = welcome_email_sent(lead)
    assert sent.subject.startswith(f"{lead.first_name}, thanks")
    assert rep_alert_new_lead(lead_id=lead.pk)["email"] is True
    assert mail.outbox[-1].subject == f"New lead: {lead.full_name}"


@fast(25)
@given(first=name_with_controls, last=name_with_controls, how_heard=name_with_controls)
def test_the_phone_form_accepts_names_with_control_characters_cleaned_and_the_welcome_email_goes(
    client_for, rep, first, last, how_heard
):
    number = next(_address)
    values = {
        "first_name": first,
        "last_name": last,
        "phone": f"+1415555{number % 10000:04d}",
        "email": f"caller{number}@example.com",
        "how_heard": how_heard,
        "interest": "Wants a quote\r\n\x1b[2Jfor two",
    }
    response = client_for(rep).post("/leads/new/", values)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    lead = Lead.objects.get(email=values["email"])
    for value in (lead.first_name, lead.last_name, lead.how_heard):
        assert_one_clean_line(value)
    assert lead.interest == "Wants a quote\nfor two"
    welcome_email_sent(lead)


def test_the_issue_example_loses_its_controls_on_every_intake_path(client, client_for, manager, rep, web_source):
    bad = "Ctl\x01\x07\x1b[31m"
    key = lead_source_issue_api_key(source=web_source)
    api = client.post(
        "/api/leads/",
        {"first_name": bad, "phone": "+14155550140"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    assert api.status_code == 201
    raw = b"first_name,last_name,phone\nCsv\x1b[31m,Row\x07,+14155550141\n"
    job = imports.import_job_create(created_by=manager, filename="ctl.csv", raw=raw, source=web_source)
    assert imports.import_job_run(job_id=job.pk).created_count == 1
    referral = referral_call_log(
        contact=factories.ContactFactory(owner=rep),
        by=rep,
        got_referral=True,
        first_name="Ref\r\nX",
        phone="+14155550142",
    )
    sms = inbound_sms_receive(
        sid="SM" + "7" * 32, from_number="+14155550143", to_number="+15005550006", body="Hi\x1b[31m\r\nthere"
    )
    names = dict(Lead.objects.values_list("phone", "first_name"))
    assert names["+14155550140"] == "Ctl"
    assert (names["+14155550141"], Lead.objects.get(phone="+14155550141").last_name) == ("Csv", "Row")
    assert referral.first_name == "Ref X"
    assert sms.message.lead.interest == "Hi\nthere"


def test_an_edit_cleans_a_name_saved_before_the_rule_and_notes_keep_their_lines(rep):
    lead = factories.LeadFactory(owner=rep, first_name="Old\r\nName\x1b[31m", phone="+14155550144")
    lead_update(lead=lead, by=rep, company="Acme\x07")
    lead.refresh_from_db()
    assert (lead.first_name, lead.company) == ("Old Name", "Acme")
    note = lead_note_add(lead=lead, by=rep, text="Called\x1b[0m twice\r\nno answer\x07")
    assert note.text == "Called twice\nno answer"

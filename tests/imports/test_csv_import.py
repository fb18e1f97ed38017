import csv
import io

import pytest
from django.urls import reverse

from intake import imports
from leads.models import ImportJob, Lead, LeadEvent
from tests.factories import LeadFactory, LeadSourceFactory, UserFactory

GOOD_CSV = (
    "First name,Last name,Phone,Email,Company,How heard,Interest\n"
    "Ann,Archer,(415) 555-0101,ann@example.org,Acme,Google,Pricing\n"
    "Ben,Baker,415-555-0102,,Bolt Inc,Referral,Demo\n"
    "Cy,Cole,,cy@example.org,,,\n"
)
MIXED_CSV = (
    "First name,Phone,Email,Interest\n"
    "Ann,+1 415 555 0101,,ok\n"
    "Bad,+1 555 0000,,wrong number\n"
    ",+1 415 555 0103,,no name\n"
    "Dee,+1 415 555 0104,,fine\n"
)


def only_job():
    return ImportJob.objects.get()


# --- Importing -------------------------------------------------------------------------------


def test_good_rows_are_imported_round_robin_in_the_source_team(client_for, upload, manager, web_source, rep, teammate):
    response = upload(client_for(manager), GOOD_CSV, source=web_source)

    job = only_job()
    assert response.status_code == 302 and response["Location"] == reverse("leads:import_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.finished_at
    assert (job.total_rows, job.processed_rows, job.created_count, job.duplicate_count, job.error_count) == (
        3,
        3,
        3,
        0,
        0,
    )
    ann = Lead.objects.get(first_name="Ann")
    assert (ann.last_name, ann.phone, ann.email, ann.company, ann.how_heard, ann.interest) == (
        "Archer",
        "+14155550101",
        "ann@example.org",
        "Acme",
        "Google",
        "Pricing",
    )
    assert ann.source == web_source
    assert sorted(Lead.objects.values_list("owner__username", flat=True)) == ["alice", "alice", "bob"]
    event = LeadEvent.objects.filter(lead=ann, kind=LeadEvent.Kind.INQUIRY).get()
    assert event.actor == manager and event.data["via"] == "csv"


def test_bad_rows_are_listed_with_their_reason(client_for, upload, manager, web_source, rep):
    upload(client_for(manager), MIXED_CSV, source=web_source)

    job = only_job()
    assert job.status == ImportJob.Status.DONE
    assert (job.created_count, job.error_count) == (2, 2)
    assert sorted(Lead.objects.values_list("first_name", flat=True)) == ["Ann", "Dee"]
    assert job.errors[0]["row"] == 3
    assert job.errors[0]["reason"].startswith("phone: This phone number does not exist")
    assert job.errors[1]["row"] == 4 and job.errors[1]["reason"].startswith("first_name: ")


def test_reimporting_the_same_file_creates_no_new_leads(client_for, upload, manager, web_source, rep):
    client = client_for(manager)
    upload(client, GOOD_CSV, source=web_source)
    upload(client, GOOD_CSV, source=web_source)

    second = ImportJob.objects.order_by("-pk").first()
    assert second.status == ImportJob.Status.DONE
    assert (second.created_count, second.duplicate_count, second.error_count) == (0, 3, 0)
    assert Lead.objects.count() == 3
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.INQUIRY).count() == 6


def test_owner_given_gets_every_lead(client_for, upload, manager, web_source, rep, teammate):
    upload(client_for(manager), GOOD_CSV, source=web_source, owner=teammate)
    assert set(Lead.objects.values_list("owner__username", flat=True)) == {"bob"}


def test_header_synonyms_semicolons_and_full_names(client_for, upload, manager, web_source, rep):
    content = (
        "FULL NAME;Mobile;E-Mail;Why are you contacting us?;TZ\nMaria de la Cruz;+1 415 555 0107;;Quote;\n\n;;;;\n"
    )
    upload(client_for(manager), content, source=web_source)

    job = only_job()
    assert (job.total_rows, job.created_count) == (1, 1)
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.phone, lead.interest) == (
        "Maria",
        "de la Cruz",
        "+14155550107",
        "Quote",
    )


def test_phone_and_mobile_columns_take_the_first_filled_one(client_for, upload, manager, web_source, rep):
    upload(client_for(manager), "first_name,phone,mobile\nAnn,,+1 415 555 0108\n", source=web_source)
    assert Lead.objects.get().phone == "+14155550108"


def test_admin_may_import_without_source_or_owner(client_for, upload, admin_user):
    upload(client_for(admin_user), GOOD_CSV)
    assert only_job().created_count == 3
    assert Lead.objects.filter(owner=None).count() == 3


# --- Encodings ----------------------------------------------------------------------------------


def test_utf8_with_bom(client_for, upload, manager, web_source, rep):
    upload(client_for(manager), "\ufeffFirst name,Phone\nZoë,+1 415 555 0109\n", source=web_source)
    job = only_job()
    assert job.warnings == [] and job.created_count == 1
    assert Lead.objects.get().first_name == "Zoë"


def test_cp1252_falls_back_with_a_warning(client_for, upload, manager, web_source, rep):
    response = upload(
        client_for(manager),
        "First name,Phone,Interest\nJosé,+1 415 555 0110,“Quotes”\n",
        encoding="cp1252",
        source=web_source,
    )
    job = only_job()
    assert job.created_count == 1
    lead = Lead.objects.get()
    assert (lead.first_name, lead.interest) == ("José", "“Quotes”")
    assert "Windows-1252" in job.warnings[0]
    page = client_for(manager).get(response["Location"])
    assert "Windows-1252" in page.content.decode()


def test_utf16_from_excel_unicode_text(client_for, upload, manager, web_source, rep):
    upload(client_for(manager), "First name\tPhone\nÅsa\t+1 415 555 0111\n", encoding="utf-16", source=web_source)
    assert Lead.objects.get().first_name == "Åsa"


# --- Refused files: a clear error, nothing saved ---------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            "Name,Company\nAnn,Acme\n",
            "leads.csv",
            "Missing required column(s): phone or email. Columns found: “Name”, “Company”",
        ),
        ("Phone,Company\n4155550101,Acme\n", "leads.csv", "first name (or name)"),
        ("", "leads.csv", "file is empty"),
        ("First name,Phone\n", "leads.csv", "no rows to import"),
        (b"PK\x03\x04\x14\x00\x06\x00binary-xlsx", "leads.csv", "not a CSV file"),
        (b"First name,Phone\x00\x01\x02", "leads.csv", "not a CSV file"),
        ("First name,Phone\nAnn,4155550101\n", "leads.xlsx", "Upload a .csv file"),
        ('First name,Phone,Interest\nAnn,4155550101,"' + "x" * 200_000 + '"\n', "leads.csv", "not a readable CSV"),
    ],
)
def test_unusable_files_are_refused_with_nothing_saved(client_for, upload, manager, web_source, content, name, message):
    response = upload(client_for(manager), content, name=name, source=web_source)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ImportJob.objects.count() == 0 and Lead.objects.count() == 0


def test_file_over_5_mb_is_refused(client_for, upload, manager, web_source):
    content = "First name,Phone,Interest\n" + ("Ann,4155550101," + "x" * 990 + "\n") * 5400
    response = upload(client_for(manager), content, source=web_source)
    assert response.status_code == 400
    assert "limit is 5 MB" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_huge_field_in_one_row_is_a_row_error(client_for, upload, manager, web_source, rep):
    content = f"First name,Phone,Interest\nAnn,+1 415 555 0101,{'x' * 5000}\nBen,+1 415 555 0102,short\n"
    upload(client_for(manager), content, source=web_source)
    job = only_job()
    assert (job.created_count, job.error_count) == (1, 1)
    assert job.errors == [{"row": 2, "reason": "interest: Ensure this value has at most 1000 characters."}]


# --- Who may import what ---------------------------------------------------------------------


def test_manager_cannot_give_leads_to_another_teams_rep(client_for, upload, manager, web_source, other_rep):
    response = upload(client_for(manager), GOOD_CSV, source=web_source, owner=other_rep)
    assert response.status_code == 400
    assert ImportJob.objects.count() == 0 and Lead.objects.count() == 0


def test_manager_must_pick_an_owner_or_a_source_of_their_team(client_for, upload, manager, south):
    south_source = LeadSourceFactory(name="South fair", team=south)
    for fields in ({}, {"source": south_source}):
        response = upload(client_for(manager), GOOD_CSV, **fields)
        assert response.status_code == 400
        assert "Pick an owner" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_manager_may_import_another_source_to_their_own_rep(client_for, upload, manager, south, rep):
    south_source = LeadSourceFactory(name="South fair", team=south)
    upload(client_for(manager), GOOD_CSV, source=south_source, owner=rep)
    assert only_job().created_count == 3
    assert Lead.objects.filter(owner=rep, team=rep.team).count() == 3


def test_reps_are_forbidden_and_anonymous_sent_to_login(client_for, rep, manager, web_source):
    job = ImportJob.objects.create(created_by=manager, filename="x.csv", content=GOOD_CSV, total_rows=3)
    for url in (
        "/leads/import/",
        f"/leads/import/{job.pk}/",
        f"/leads/import/{job.pk}/errors.csv",
    ):
        assert client_for(rep).get(url).status_code == 403
        response = client_for(None).get(url)
        assert response.status_code == 302 and "/login" in response["Location"]
    assert client_for(rep).post("/leads/import/", {"file": io.BytesIO(b"x")}).status_code == 403


def test_jobs_are_seen_only_by_their_creator_and_admins(client_for, manager, other_manager, admin_user):
    job = ImportJob.objects.create(created_by=manager, filename="x.csv", content=GOOD_CSV, total_rows=3)
    urls = [f"/leads/import/{job.pk}/", f"/leads/import/{job.pk}/errors.csv"]
    for url in urls:
        assert client_for(other_manager).get(url).status_code == 404
        assert client_for(manager).get(url).status_code == 200
        assert client_for(admin_user).get(url).status_code == 200
    assert client_for(other_manager).post(f"/leads/import/{job.pk}/retry/").status_code == 404
    assert "x.csv" not in client_for(other_manager).get("/leads/import/").content.decode()
    assert "x.csv" in client_for(admin_user).get("/leads/import/").content.decode()


# --- Progress, errors.csv ----------------------------------------------------------------------


def test_progress_partial_polls_while_running_and_stops_when_done(client_for, manager):
    job = ImportJob.objects.create(
        created_by=manager,
        filename="x.csv",
        content=GOOD_CSV,
        total_rows=4,
        processed_rows=1,
        status=ImportJob.Status.RUNNING,
    )
    client = client_for(manager)
    running = client.get(f"/leads/import/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in running
    assert 'hx-trigger="every 1s"' in running and f'hx-get="/leads/import/{job.pk}/"' in running
    assert "25%" in running and "1 of 4 rows" in running

    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE,
        processed_rows=4,
        created_count=3,
        error_count=1,
        errors=[{"row": 3, "reason": "phone: nope"}],
        finished_at="2026-01-01T00:00Z",
    )
    done = client.get(f"/leads/import/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done
    assert 'data-count="created">3<' in done and "phone: nope" in done and "errors.csv" in done

    full = client.get(f"/leads/import/{job.pk}/").content.decode()
    assert "<html" in full and 'id="import-progress"' in full


def test_errors_csv_has_the_bad_rows_as_uploaded_with_reasons(client_for, upload, manager, web_source, rep):
    upload(client_for(manager), MIXED_CSV, source=web_source)
    job = only_job()
    response = client_for(manager).get(f"/leads/import/{job.pk}/errors.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["row", "reason", "First name", "Phone", "Email", "Interest"]
    assert [r[0] for r in rows[1:]] == ["3", "4"]
    # A cell starting with "+" would run as a formula in a spreadsheet: it gets a quote (leads.csv_safe).
    assert rows[1][2:] == ["Bad", "'+1 555 0000", "", "wrong number"]
    assert rows[1][1].startswith("phone: This phone number does not exist")


def test_recent_imports_list_uses_constant_queries(client_for, manager, django_assert_num_queries):
    client = client_for(manager)
    ImportJob.objects.create(created_by=manager, filename="a.csv", content="x", total_rows=1)
    client.get("/leads/import/")  # warm up session and content types
    with django_assert_num_queries(7) as one:  # the navigation's unmatched replies count among them
        client.get("/leads/import/")
    for i in range(19):
        ImportJob.objects.create(created_by=manager, filename=f"f{i}.csv", content="x", total_rows=1)
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get("/leads/import/")
    assert page.content.decode().count("/leads/import/") >= 20


# --- The background run --------------------------------------------------------------------------


def test_progress_is_saved_every_25_rows(manager, web_source, rep, monkeypatch):
    content = "First name,Email\n" + "".join(f"L{i},l{i}@example.org\n" for i in range(60))
    job = ImportJob.objects.create(
        created_by=manager, source=web_source, filename="x.csv", content=content, total_rows=60
    )
    seen = []
    real_intake = imports.lead_intake

    def spy(**kwargs):
        seen.append(ImportJob.objects.get(pk=job.pk).processed_rows)
        return real_intake(**kwargs)

    monkeypatch.setattr(imports, "lead_intake", spy)
    imports.import_job_run(job_id=job.pk)

    assert seen[:26] == [0] * 25 + [25]
    assert seen[50] == 50 and seen[-1] == 50
    job.refresh_from_db()
    assert (job.processed_rows, job.created_count, job.status) == (60, 60, ImportJob.Status.DONE)


def test_small_files_save_progress_every_row(manager, web_source, rep, monkeypatch):
    job = ImportJob.objects.create(
        created_by=manager, source=web_source, filename="x.csv", content=GOOD_CSV, total_rows=3
    )
    seen = []
    real_intake = imports.lead_intake

    def spy(**kwargs):
        seen.append(ImportJob.objects.get(pk=job.pk).processed_rows)
        return real_intake(**kwargs)

    monkeypatch.setattr(imports, "lead_intake", spy)
    imports.import_job_run(job_id=job.pk)
    assert seen == [0, 1, 2]


def test_a_crash_mid_file_fails_the_job_and_a_rerun_resumes_safely(
    client_for, manager, web_source, rep, monkeypatch, django_capture_on_commit_callbacks
):
    job = ImportJob.objects.create(
        created_by=manager, source=web_source, filename="x.csv", content=GOOD_CSV, total_rows=3
    )
    real_intake = imports.lead_intake
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs["first_name"])
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_intake(**kwargs)

    monkeypatch.setattr(imports, "lead_intake", flaky)
    imports.import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.finished_at
    assert job.failure_reason == "Stopped at row 3: RuntimeError: database went away"
    assert (job.processed_rows, job.created_count) == (1, 1)
    assert Lead.objects.count() == 1
    page = client_for(manager).get(f"/leads/import/{job.pk}/").content.decode()
    assert "database went away" in page and "Run again" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(manager).post(f"/leads/import/{job.pk}/retry/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.failure_reason == ""
    assert (job.processed_rows, job.created_count, job.duplicate_count) == (3, 3, 0)
    assert Lead.objects.count() == 3


def test_running_a_finished_job_again_does_nothing(manager, web_source, rep):
    job = ImportJob.objects.create(
        created_by=manager, source=web_source, filename="x.csv", content=GOOD_CSV, total_rows=3
    )
    imports.import_job_run(job_id=job.pk)
    assert imports.import_job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert (job.created_count, job.duplicate_count) == (3, 0)


def test_retry_of_a_done_job_is_refused(client_for, manager):
    job = ImportJob.objects.create(
        created_by=manager, filename="x.csv", content=GOOD_CSV, total_rows=3, status=ImportJob.Status.DONE
    )
    response = client_for(manager).post(f"/leads/import/{job.pk}/retry/", follow=True)
    assert "Only a failed import" in response.content.decode()


def test_imported_duplicate_of_an_open_lead_lands_on_it(client_for, upload, manager, web_source, rep):
    existing = LeadFactory(first_name="Ann", phone="+14155550101", email="", owner=rep)
    upload(client_for(manager), GOOD_CSV, source=web_source)
    job = only_job()
    assert (job.created_count, job.duplicate_count) == (2, 1)
    assert LeadEvent.objects.filter(lead=existing, kind=LeadEvent.Kind.INQUIRY).count() == 1


def test_upload_page_renders_for_manager_with_own_team_owners(client_for, manager, rep, other_rep):
    UserFactory(username="zed", role="rep", team=rep.team, is_active=False)
    page = client_for(manager).get("/leads/import/").content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert "alice" in page or "Alice" in page
    assert "Charlie" not in page

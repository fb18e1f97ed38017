"""CSV that a spreadsheet opens as text, never as formulas (OWASP, "CSV Injection").

Every CSV the product writes (the Feedback Friday export, an import's errors.csv) goes through
`csv_safe_writer`: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return,
which Excel, LibreOffice and Google Sheets would read as a formula, gets a single quote in front.
The spreadsheet shows the quote; the text is kept whole. Numbers the product writes itself (ids,
counts) are left as they are. A neutralised phone number ("'+1 415 555 0100") still imports: the
phone parser skips the quote.
"""

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """`value`, with a single quote in front if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class CsvSafeWriter:
    """csv.writer whose rows go through `csv_cell`, cell by cell."""

    def __init__(self, out, **fmtparams):
        self._writer = csv.writer(out, **fmtparams)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_safe_writer(out, **fmtparams) -> CsvSafeWriter:
    return CsvSafeWriter(out, **fmtparams)

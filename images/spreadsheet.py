"""CSV as spreadsheet programs read it, written the same way by the portal's exports and the
bulk tool's export. Pure functions; Django-free."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

# Spreadsheets run cells starting with these as formulas (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value):
        return value


def csv_safe(value: object) -> str:
    """The cell's text, with a quote before a start that a spreadsheet would run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The header and rows as CSV lines, every cell made safe; a BOM first so spreadsheet
    programs read UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_safe(cell) for cell in row])

"""Reading the CSV file of a case import: columns, rows and their line numbers.

Nothing here judges a value; :mod:`conduct.cases.importing` checks the cells. Messages name
lines and columns, never a value: a file without its header line would otherwise print its
first row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from conduct.core.errors import ValidationFailed

from .services import PERSON_FIELDS

KEY_COLUMN = "case_key"
CASE_COLUMNS = (
    "mission",
    "received_on",
    "incident_date",
    "source",
    "category",
    "allegation_type",
    "misconduct_class",
    "narrative",
    "location",
    "notes",
)
REQUIRED_COLUMNS = ("mission", "received_on")
PERSON_ROLES = ("victim", "subject", "witness", "reporter")
PERSON_COLUMNS: dict[str, tuple[str, str]] = {
    f"{role}_{name}": (role, name)
    for role in PERSON_ROLES
    for name in PERSON_FIELDS
    if name != "role"
}
KNOWN_COLUMNS = frozenset({KEY_COLUMN, *CASE_COLUMNS, *PERSON_COLUMNS})


class ImportFileError(ValidationFailed):
    """The file as a whole cannot be read: not UTF-8, empty, or wrong columns."""


@dataclass(frozen=True)
class Problem:
    """What is wrong with one cell (or one row, when ``column`` is None)."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.line}" + (f", field {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class Row:
    """One data record of the file: its first line number and its non-empty cells, trimmed."""

    line: int
    cells: dict[str, str]
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ImportFile:
    """The columns named by the header line and the data rows below it."""

    columns: list[str | None]
    rows: list[Row]


def read_file(data: bytes) -> ImportFile:
    """The data rows of a CSV file (UTF-8, with or without BOM; comma or semicolon)."""
    text = _decode(data)
    if not text.strip():
        raise ImportFileError("the file is empty: its first line must name the columns")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next((cells for cells in reader if any(cell.strip() for cell in cells)), None)
        if header is None:
            raise ImportFileError(
                "the file has no header line: its first line must name the columns"
            )
        columns = _columns(header, reader.line_num)
        rows = list(_records(reader, columns))
    except csv.Error as error:
        raise ImportFileError(f"line {reader.line_num} is not valid CSV ({error})") from None
    if not rows:
        raise ImportFileError("the file has no rows below its header line")
    return ImportFile(columns, rows)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportFileError(
            f"line {line} is not UTF-8 text: save the file as CSV UTF-8"
        ) from None


def _delimiter(text: str) -> str:
    """Spreadsheets in French and other locales write semicolons; the header line tells."""
    first = text.lstrip().split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def _letter(position: int) -> str:
    """A spreadsheet column letter (0 -> A, 26 -> AA)."""
    name = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _columns(header: list[str], line: int) -> list[str | None]:
    """Column names of the header line, checked; None for a column with no name.

    Unknown names are reported by position only: a file without a header line would
    otherwise print its first row.
    """
    names = [cell.strip().lower() or None for cell in header]
    unknown = [_letter(i) for i, name in enumerate(names) if name and name not in KNOWN_COLUMNS]
    if len(unknown) == len([name for name in names if name]):
        raise ImportFileError(
            f"line {line} names no known column: the first line must name the columns "
            "(see docs/import.md)"
        )
    if unknown:
        raise ImportFileError(
            f"unknown column names on line {line}, in column {', '.join(unknown)} "
            "(docs/import.md lists the columns)"
        )
    twice = sorted({name for name in names if name and names.count(name) > 1})
    if twice:
        raise ImportFileError(f"columns named twice: {', '.join(twice)}")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise ImportFileError(f"missing required columns: {', '.join(missing)}")
    return names


def _records(reader, columns: list[str | None]) -> Iterable[Row]:
    line = reader.line_num + 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if any(cell.strip() for cell in cells):
            yield _row(start, columns, cells)


def _row(line: int, columns: list[str | None], record: list[str]) -> Row:
    row = Row(line, {})
    if len(record) > len(columns):
        row.problems.append(Problem(line, None, "more cells than the header line has columns"))
    for position, (name, cell) in enumerate(zip(columns, record, strict=False)):
        value = cell.strip()
        if not value:
            continue
        if name is None:
            message = f"a value in column {_letter(position)}, which has no name"
            row.problems.append(Problem(line, None, message))
        else:
            row.cells[name] = value
    return row

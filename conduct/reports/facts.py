"""Reading the coded facts statistics need, with the statistics key only.

Each row's coded facts are one sealed document (``conduct.crypto.columns``); they are opened
once per row with :func:`open_padded_coded_documents`, which uses the statistics key and nothing
else: no case data key is unwrapped and no identifying column is selected. Documents are
canonical JSON, so equal facts give equal bytes: each distinct document is decoded once
(incident dates, the one fact that varies a lot, are cut out first, since no table uses them).

Rows are read as the database driver gives them (:func:`conduct.core.db.driver_rows`: plain
tuples, no type processing, binary format on PostgreSQL): statistics read every row and build
no ORM object. Ids stay as the driver gives them (hex text on SQLite, UUIDs from psycopg) where
they only join rows; the binding a sealed cell is opened with (row id and case id) is made by
the database, as bytes on PostgreSQL and as hex text on SQLite.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import String, Text, cast, func, select, type_coerce

from conduct import codes
from conduct.cases.models import Case, Finding, Referral, StatusChange
from conduct.core.db import db, driver_rows
from conduct.crypto import current_vault
from conduct.crypto.columns import decode_coded_document, open_padded_coded_documents
from conduct.crypto.envelope import unpad


def raw(column):
    """A UUID column as the driver returns it, without building UUID objects."""
    return type_coerce(column, String())


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def binding(row_id, case_id):
    """The binding of a row's sealed cells (its id, then its case's id) as one column: bytes
    on PostgreSQL, 32 + 32 hex digits on SQLite (see :func:`binding_bytes`)."""
    if is_postgresql():
        return func.uuid_send(row_id).op("||", return_type=String())(func.uuid_send(case_id))
    return raw(row_id).op("||", return_type=String())(raw(case_id))


def binding_bytes() -> Callable[[Any], bytes]:
    """Turns a :func:`binding` column into bytes, on this database."""
    return bytes if is_postgresql() else bytes.fromhex


def as_date(value) -> date | None:
    """A date column read raw: a date from psycopg, ISO text from SQLite."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def open_documents(table: str, rows: Iterable) -> Iterator[bytes]:
    """The coded document of each row (its :func:`binding` next to last, its token last),
    padding left on: :class:`FactDecoder` removes it from the distinct ones only."""
    to_bytes = binding_bytes()
    cells = [(to_bytes(row[-2]), row[-1]) for row in rows]
    return open_padded_coded_documents(current_vault(), table, cells)


class FactDecoder:
    """Turns padded coded documents into tuples of chosen facts, decoding each distinct one
    once (equal facts seal equal documents). Cases' documents vary by incident date, which no
    table uses: with ``cut_incident_date`` it is cut out before documents are compared."""

    def __init__(
        self,
        names: tuple[str, ...],
        convert: Callable[[tuple], Any] | None = None,
        *,
        cut_incident_date: bool = False,
    ):
        self.names = names
        self.convert = convert
        self.cut_incident_date = cut_incident_date
        self._seen: dict[bytes, Any] = {}

    def of_rows(self, table: str, rows: list) -> list:
        """The facts of each row of ``table`` (see :func:`open_documents`), in order."""
        return self.decode_all(open_documents(table, rows))

    def decode_all(self, documents: Iterable[bytes]) -> list:
        """The facts of each document, in order."""
        if self.cut_incident_date:
            documents = map(_without_incident_date, documents)
        known, decode = self._seen.get, self._decode
        return [known(document) or decode(document) for document in documents]

    def _decode(self, document: bytes) -> tuple:
        facts = decode_coded_document(unpad(document))
        found = tuple(facts.get(name) for name in self.names)
        if self.convert is not None:
            found = self.convert(found)
        self._seen[document] = found
        return found


_INCIDENT = b'"incident_date":'


def _without_incident_date(document: bytes) -> bytes:
    start = document.find(_INCIDENT)
    if start < 0:
        return document
    end = document.find(b",", start)
    return document[:start] + document[end + 1 :] if end >= 0 else document


def coded_domain(code_list) -> tuple:
    """A coded dimension's values: its codes, then None (not recorded)."""
    return (*code_list.codes, None)


def indexer(domain: tuple) -> Callable:
    positions = {value: index for index, value in enumerate(domain)}
    return positions.__getitem__


def mission_domain(present: Iterable[str]) -> tuple[str, ...]:
    known = [code for code, _, _ in codes.MISSIONS]
    return (*known, *sorted(set(present) - set(known)))


def year_domain(years: Iterable[int]) -> tuple[int, ...]:
    years = set(years)
    return tuple(range(min(years), max(years) + 1)) if years else ()


# --- Rows --------------------------------------------------------------------------------------


def case_key(column):
    """A UUID column as 32 lower-case hex digits on both databases (SQLite stores that):
    the key rows of one case are grouped by."""
    if is_postgresql():
        return func.replace(cast(column, Text), "-", "")
    return raw(column)


def date_text(column):
    """A date column as ISO text (what SQLite stores), which numpy parses fast."""
    if is_postgresql():
        return func.to_char(column, "YYYY-MM-DD")
    return raw(column)


def read_case_rows(cases: list[str] | None, with_facts: bool) -> list:
    """``(case key, mission, received_on as ISO text[, binding, coded token])`` of every case
    or of the given ones (see :func:`rows_of_cases`)."""
    columns = [case_key(Case.id), Case.mission_code, date_text(Case.received_on)]
    if with_facts:
        columns += [binding(Case.id, Case.id), Case.coded_sealed]
    return rows_of_cases(select(*columns), Case.id, cases)


def read_referrals(cases: list[str] | None) -> list:
    """``(case key, referred_on, acknowledged_on, binding, coded token)`` of the cases'
    referrals, dates as dates."""
    rows = rows_of_cases(
        select(
            case_key(Referral.case_id),
            Referral.referred_on,
            Referral.acknowledged_on,
            binding(Referral.id, Referral.case_id),
            Referral.coded_sealed,
        ),
        Referral.case_id,
        cases,
    )
    return [(row[0], as_date(row[1]), as_date(row[2]), row[3], row[4]) for row in rows]


def read_status_changes(cases: list[str]) -> list:
    """``(case key, at, binding, coded token)`` of the status changes of the given cases,
    ``at`` as an aware datetime; rows of other cases are not read."""
    rows = rows_of_cases(
        select(
            case_key(StatusChange.case_id),
            StatusChange.at,
            binding(StatusChange.id, StatusChange.case_id),
            StatusChange.coded_sealed,
        ),
        StatusChange.case_id,
        cases,
    )
    return [(row[0], as_utc_datetime(row[1]), row[2], row[3]) for row in rows]


def read_finding_dates(cases: list[str] | None) -> list:
    """(case key, decided_on) of the cases' findings: plain columns, nothing opened."""
    rows = rows_of_cases(
        select(case_key(Finding.case_id), Finding.decided_on), Finding.case_id, cases
    )
    return [(case_id, as_date(decided_on)) for case_id, decided_on in rows]


def rows_of_cases(statement, case_column, cases: list | None) -> list:
    """The driver's rows of ``statement``, of every case (``cases`` None) or of the given
    ones (ids as 32 hex digits, or UUIDs), read a few hundred cases at a time."""
    if cases is None:
        return driver_rows(statement)
    if is_postgresql():
        key, wanted = case_column, [uuid.UUID(str(case)) for case in cases]
    else:
        key, wanted = raw(case_column), [str(case).replace("-", "") for case in cases]
    rows = []
    for start in range(0, len(wanted), _CHUNK):
        rows += driver_rows(statement.where(key.in_(wanted[start : start + _CHUNK])))
    return rows


_CHUNK = 500  # ids per IN list, well inside every database's limit on parameters


def as_utc_datetime(value) -> datetime:
    """A moment read raw: aware from psycopg, ISO text in UTC from SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

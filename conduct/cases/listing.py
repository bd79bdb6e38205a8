"""Case lists: plain columns from the database, coded facts opened once per row.

Filters on coded facts (status, category) open each case's coded facts with the statistics key,
in the user's scope only; no case data key is unwrapped and no identity is read, so a list is
cheap and shows nothing identifying.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from flask_babel import gettext
from sqlalchemy import String, func, select, type_coerce

from conduct.audit import record
from conduct.core.db import db, driver_rows
from conduct.core.errors import ValidationFailed
from conduct.crypto import current_vault
from conduct.crypto.columns import (
    coded_fact_pattern,
    decode_coded_document,
    open_coded_document,
    open_padded_coded_documents,
)

from .models import Case, CaseRecusal

CODED_FILTERS = ("status", "category")
FILTERS = ("mission", *CODED_FILTERS, "overdue")


@dataclass(frozen=True)
class CasePage:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int


def scope_of(actor, mission: str | None):
    """The where-clause of the cases the actor may list: their missions, not recused."""
    missions = set(getattr(actor, "missions", ()))
    if mission is not None:
        if mission not in missions:
            raise ValidationFailed.of({"mission": [gettext("not one of your missions")]})
        missions = {mission}
    recused = select(CaseRecusal.case_id).where(CaseRecusal.user_id == actor.id)
    return (Case.mission_code.in_(missions), Case.id.not_in(recused))


# The id as the driver gives it (hex text on SQLite, a UUID from psycopg): lists read thousands
# of rows and build UUID objects only for the page they show.
_RAW_ID = type_coerce(Case.id, String()).label("raw_id")
# The date as the driver gives it (ISO text on SQLite, a date from psycopg): both sort in date
# order, and filtered lists sort their matches in Python by it.
_RAW_RECEIVED_ON = type_coerce(Case.received_on, String()).label("raw_received_on")
_NEWEST_FIRST = (Case.received_on.desc(), Case.reference.desc())
_SHOWN = (
    _RAW_ID,
    Case.reference,
    Case.mission_code,
    Case.received_on,
    Case.version,
    Case.coded_sealed,
)


def _page_rows(scope, start: int, per_page: int) -> tuple[int, list]:
    """Without coded filters the database counts and pages by itself."""
    total = db.session.scalar(select(func.count()).select_from(Case).where(*scope))
    query = select(*_SHOWN).where(*scope).order_by(*_NEWEST_FIRST)
    return total, db.session.execute(query.offset(start).limit(per_page)).all()


def _matching_rows(vault, scope, patterns: list[bytes], start: int, per_page: int):
    """With coded filters every case in scope is opened once; each filter is an exact byte
    pattern of the canonical document, so no JSON is decoded to test a row.

    Thousands of rows are read as the driver gives them (no row objects, no type processing)
    and in the table's order: only the matching rows are sorted, here, which spares the
    database a sort of every row in scope."""
    raw_id = (
        func.uuid_send(Case.id) if db.session.get_bind().dialect.name == "postgresql" else _RAW_ID
    )
    query = select(raw_id, _RAW_RECEIVED_ON, Case.reference, Case.coded_sealed).where(*scope)
    rows = driver_rows(query)
    if not rows:
        return 0, []
    id_bytes = _id_bytes_reader(rows[0][0])
    bindings = [raw + raw for raw in map(id_bytes, [row[0] for row in rows])]
    documents = open_padded_coded_documents(
        vault, "cases", zip(bindings, [row[3] for row in rows], strict=True)
    )
    if len(patterns) == 1:
        (pattern,) = patterns
        matching = [
            row for row, document in zip(rows, documents, strict=True) if pattern in document
        ]
    else:
        matching = [
            row
            for row, document in zip(rows, documents, strict=True)
            if all(pattern in document for pattern in patterns)
        ]
    matching.sort(key=itemgetter(1, 2), reverse=True)  # _NEWEST_FIRST
    wanted = [row[0] for row in matching[start : start + per_page]]
    if not wanted:
        return len(matching), []
    ids = [uuid.UUID(bytes=id_bytes(raw)) for raw in wanted]
    shown = db.session.execute(select(*_SHOWN).where(Case.id.in_(ids))).all()
    order = {case_id.bytes: index for index, case_id in enumerate(ids)}
    return len(matching), sorted(shown, key=lambda row: order[_id_bytes(row.raw_id)])


def _id_bytes_reader(sample):
    """How to turn the ids read into their 16 bytes, chosen once for thousands of rows: SQLite
    gives 32 hex digits, PostgreSQL the bytes themselves (``uuid_send``)."""
    return bytes if isinstance(sample, bytes) else bytes.fromhex


def _id_bytes(raw) -> bytes:
    return raw.bytes if isinstance(raw, uuid.UUID) else bytes.fromhex(raw.replace("-", ""))


def _binding(raw_id) -> bytes:
    """A case's row id is its case id: the binding is the id twice."""
    raw = _id_bytes(raw_id)
    return raw + raw


def _document(vault, row) -> bytes:
    return open_coded_document(vault, "cases", bytes(row.coded_sealed), _binding(row.raw_id))


def list_cases(actor, filters: dict[str, Any], page: int = 1, per_page: int = 50) -> CasePage:
    """One page of the cases the actor may see, newest first. Audited (filter names only).

    Without a filter on coded facts only the page's rows are opened; with one, every row in
    the user's scope is opened once (coded facts never sit in a cache: they are per-case values).
    """
    listed = page_of_cases(actor, filters, page, per_page)
    record("case.list", actor=actor, object_type="case", fields=filter_names(filters))
    return listed


def filter_names(filters: dict[str, Any]) -> list[str]:
    """The filters used, as audit field names (``filter.status`` ...), never their values."""
    return sorted(f"filter.{name}" for name, value in filters.items() if value and name in FILTERS)


def page_of_cases(actor, filters: dict[str, Any], page: int, per_page: int) -> CasePage:
    """:func:`list_cases` without its audit event, for services that record their own."""
    vault = current_vault()
    scope = scope_of(actor, filters.get("mission"))
    start = (page - 1) * per_page
    patterns = [
        coded_fact_pattern(name, filters[name]) for name in CODED_FILTERS if filters.get(name)
    ]
    if patterns:
        total, rows = _matching_rows(vault, scope, patterns, start, per_page)
    else:
        total, rows = _page_rows(scope, start, per_page)
    shown = [(row, decode_coded_document(_document(vault, row))) for row in rows]
    items = [
        {
            "id": uuid.UUID(bytes=_id_bytes(row.raw_id)),
            "reference": row.reference,
            "mission": row.mission_code,
            "received_on": row.received_on,
            "version": row.version,
            "status": facts.get("status"),
            "category": facts.get("category"),
            "allegation_type": facts.get("allegation_type"),
            "source": facts.get("source"),
        }
        for row, facts in shown
    ]
    return CasePage(items, total, page, per_page)

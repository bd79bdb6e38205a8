"""Case lists: plain columns from the database, coded facts opened once per row.

Filters on coded facts (status, category) open each case's coded facts with the statistics key,
in the user's scope only; no case data key is unwrapped and no identity is read, so a list is
cheap and shows nothing identifying.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from conduct.audit import record
from conduct.core.db import db
from conduct.core.errors import ValidationFailed
from conduct.crypto import current_vault, open_coded

from .models import Case, CaseRecusal

CODED_FILTERS = ("status", "category")


@dataclass(frozen=True)
class CasePage:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int


def _rows_in_scope(actor, mission: str | None):
    missions = set(getattr(actor, "missions", ()))
    if mission is not None:
        if mission not in missions:
            raise ValidationFailed.of({"mission": ["not one of your missions"]})
        missions = {mission}
    recused = select(CaseRecusal.case_id).where(CaseRecusal.user_id == actor.id)
    query = (
        select(
            Case.id,
            Case.reference,
            Case.mission_code,
            Case.received_on,
            Case.version,
            Case.coded_sealed,
        )
        .where(Case.mission_code.in_(missions), Case.id.not_in(recused))
        .order_by(Case.received_on.desc(), Case.reference.desc())
    )
    return db.session.execute(query)


def list_cases(actor, filters: dict[str, Any], page: int = 1, per_page: int = 50) -> CasePage:
    """One page of the cases the actor may see, newest first. Audited (filter names only)."""
    vault = current_vault()
    wanted = {name: filters[name] for name in CODED_FILTERS if filters.get(name)}
    matching = []
    for row in _rows_in_scope(actor, filters.get("mission")):
        facts = open_coded(vault, "cases", bytes(row.coded_sealed), row.id, row.id)
        if all(facts.get(name) == value for name, value in wanted.items()):
            matching.append((row, facts))
    start = (page - 1) * per_page
    items = [
        {
            "id": row.id,
            "reference": row.reference,
            "mission": row.mission_code,
            "received_on": row.received_on,
            "version": row.version,
            "status": facts.get("status"),
            "category": facts.get("category"),
            "allegation_type": facts.get("allegation_type"),
            "source": facts.get("source"),
        }
        for row, facts in matching[start : start + per_page]
    ]
    used = sorted(f"filter.{name}" for name in ("mission", *CODED_FILTERS) if filters.get(name))
    record("case.list", actor=actor, object_type="case", fields=used)
    return CasePage(items, len(matching), page, per_page)

"""Overdue items for pages: the flag in case lists, the overdue filter, an officer's own list.

Deadlines are computed by :mod:`conduct.cases.deadlines` from plain dates and coded facts
only (status, referral purpose and entity, history), opened with the statistics key: no case
data key is unwrapped and no identity is read. Each service records one audit event naming
the facts it read, never their values.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from conduct.audit import record
from conduct.core.db import db

from .deadlines import DeadlineRules, OverdueItem, all_overdue
from .listing import CODED_FILTERS, CasePage, filter_names, page_of_cases, scope_of
from .models import Case, CaseTeamMember

# What an overdue answer is computed from, for the audit events of these reads.
DEADLINE_FIELDS = (
    "status",
    "received_on",
    "history.to",
    "history.at",
    "referrals.purpose",
    "referrals.entity",
    "referrals.status",
    "referrals.referred_on",
    "referrals.due_on",
    "referrals.acknowledged_on",
)


@dataclass(frozen=True)
class CaseOverdue:
    """One case of an officer's with its overdue items."""

    reference: str
    mission: str
    received_on: date
    items: list[OverdueItem]


def _with_deadline_facts(query):
    return query.options(selectinload(Case.referrals), selectinload(Case.history))


def _cases_by_id(case_ids: list[uuid.UUID]) -> dict[uuid.UUID, Case]:
    if not case_ids:
        return {}
    cases = db.session.scalars(_with_deadline_facts(select(Case).where(Case.id.in_(case_ids))))
    return {case.id: case for case in cases}


def _item(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "reference": case.reference,
        "mission": case.mission_code,
        "received_on": case.received_on,
        "version": case.version,
        "status": case.status,
        "category": case.category,
        "allegation_type": case.allegation_type,
        "source": case.source,
    }


def _overdue_page(actor, filters, page, per_page, today, rules) -> CasePage:
    """Only overdue cases: every case in scope is checked, newest first, then paged."""
    query = select(Case).where(*scope_of(actor, filters.get("mission")))
    query = _with_deadline_facts(query).order_by(Case.received_on.desc(), Case.reference.desc())
    wanted = {name: filters[name] for name in CODED_FILTERS if filters.get(name)}
    matching = [
        case
        for case in db.session.scalars(query)
        if all(getattr(case, name) == value for name, value in wanted.items())
        and all_overdue(case, today, rules)
    ]
    start = (page - 1) * per_page
    items = [{**_item(case), "overdue": True} for case in matching[start : start + per_page]]
    return CasePage(items, len(matching), page, per_page)


def list_cases_with_deadlines(
    actor, filters: dict[str, Any], page: int, per_page: int, today: date, rules: DeadlineRules
) -> CasePage:
    """A page of the case list with each case's overdue flag; ``filters["overdue"]`` keeps
    only overdue cases. Audited once, with the filter names and the facts read."""
    if filters.get("overdue"):
        listed = _overdue_page(actor, filters, page, per_page, today, rules)
    else:
        listed = page_of_cases(actor, filters, page, per_page)
        cases = _cases_by_id([item["id"] for item in listed.items])
        for item in listed.items:
            item["overdue"] = bool(all_overdue(cases[item["id"]], today, rules))
    record(
        "case.list",
        actor=actor,
        object_type="case",
        fields=[*filter_names(filters), *DEADLINE_FIELDS],
    )
    return listed


def overdue_of_officer(actor, today: date, rules: DeadlineRules) -> list[CaseOverdue]:
    """The overdue items of the cases on whose team the actor is, most overdue first.

    Only cases of the actor's missions that they are not recused from. Audited once.
    """
    on_team = select(CaseTeamMember.case_id).where(CaseTeamMember.user_id == actor.id)
    query = select(Case).where(*scope_of(actor, None), Case.id.in_(on_team))
    found = []
    for case in db.session.scalars(_with_deadline_facts(query)):
        items = all_overdue(case, today, rules)
        if items:
            found.append(CaseOverdue(case.reference, case.mission_code, case.received_on, items))
    found.sort(key=lambda entry: (-max(i.days_overdue for i in entry.items), entry.reference))
    record("case.overdue", actor=actor, object_type="case", fields=DEADLINE_FIELDS)
    return found

"""Overdue items for pages: the flag in case lists, the overdue filter, an officer's own list.

Deadlines are computed by :mod:`conduct.cases.deadlines` from plain dates and coded facts
only (status, referral purpose and entity, history), opened with the statistics key: no case
data key is unwrapped and no identity is read. Each service records one audit event naming
the facts it read, never their values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from conduct.audit import record
from conduct.core.db import db
from conduct.crypto import current_vault, open_coded

from .deadlines import FIELDS as DEADLINE_FIELDS
from .deadlines import DeadlineRules, OverdueItem, all_overdue
from .listing import CODED_FILTERS, CasePage, filter_names, page_of_cases, scope_of
from .models import Case, CaseTeamMember, Referral, StatusChange
from .workflow import CLOSING_STATUSES

LISTED_FACTS = ("status", "category", "allegation_type", "source")
REFERRAL_FACTS = ("purpose", "entity", "status")


@dataclass(frozen=True)
class CaseOverdue:
    """One case of an officer's with its overdue items."""

    reference: str
    mission: str
    received_on: date
    items: list[OverdueItem]


def _opened(vault, table: str, row, case_id) -> dict[str, Any]:
    return open_coded(vault, table, bytes(row.coded_sealed), row.id, case_id)


def _deadline_facts(*conditions) -> list[SimpleNamespace]:
    """The cases matching ``conditions`` as the deadline rules read them, newest first.

    Plain columns and coded facts only, read as rows (no model instances: lists check
    thousands of cases), each row's coded facts opened once with the statistics key. Referrals
    are read only for cases still open, history only for cases waiting for a member state.
    """
    vault = current_vault()
    query = (
        select(
            Case.id,
            Case.reference,
            Case.mission_code,
            Case.received_on,
            Case.version,
            Case.coded_sealed,
        )
        .where(*conditions)
        .order_by(Case.received_on.desc(), Case.reference.desc())
    )
    cases = {}
    for row in db.session.execute(query):
        facts = _opened(vault, "cases", row, row.id)
        cases[row.id] = SimpleNamespace(
            id=row.id,
            reference=row.reference,
            mission_code=row.mission_code,
            received_on=row.received_on,
            version=row.version,
            **{name: facts.get(name) for name in LISTED_FACTS},
            referrals=[],
            history=[],
        )
    in_query = select(Case.id).where(*conditions)
    open_ids = {key for key, case in cases.items() if case.status not in CLOSING_STATUSES}
    referrals = select(
        Referral.id,
        Referral.case_id,
        Referral.referred_on,
        Referral.due_on,
        Referral.acknowledged_on,
        Referral.coded_sealed,
    ).where(Referral.case_id.in_(in_query))
    for row in db.session.execute(referrals):
        if row.case_id not in open_ids:
            continue
        facts = _opened(vault, "referrals", row, row.case_id)
        cases[row.case_id].referrals.append(
            SimpleNamespace(
                referred_on=row.referred_on,
                due_on=row.due_on,
                acknowledged_on=row.acknowledged_on,
                **{name: facts.get(name) for name in REFERRAL_FACTS},
            )
        )
    waiting = {key for key, case in cases.items() if case.status == "pending_member_state"}
    if waiting:
        history = select(
            StatusChange.id, StatusChange.case_id, StatusChange.at, StatusChange.coded_sealed
        ).where(StatusChange.case_id.in_(waiting))
        for row in db.session.execute(history):
            to_status = _opened(vault, "status_changes", row, row.case_id).get("to_status")
            cases[row.case_id].history.append(SimpleNamespace(to_status=to_status, at=row.at))
    return list(cases.values())


def _item(case) -> dict[str, Any]:
    return {
        "id": case.id,
        "reference": case.reference,
        "mission": case.mission_code,
        "received_on": case.received_on,
        "version": case.version,
        **{name: getattr(case, name) for name in LISTED_FACTS},
    }


def _overdue_page(actor, filters, page, per_page, today, rules) -> CasePage:
    """Only overdue cases: every case in scope is checked, newest first, then paged."""
    wanted = {name: filters[name] for name in CODED_FILTERS if filters.get(name)}
    matching = [
        case
        for case in _deadline_facts(*scope_of(actor, filters.get("mission")))
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
        ids = [item["id"] for item in listed.items]
        cases = {case.id: case for case in _deadline_facts(Case.id.in_(ids))} if ids else {}
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
    found = []
    for case in _deadline_facts(*scope_of(actor, None), Case.id.in_(on_team)):
        items = all_overdue(case, today, rules)
        if items:
            found.append(CaseOverdue(case.reference, case.mission_code, case.received_on, items))
    found.sort(key=lambda entry: (-max(i.days_overdue for i in entry.items), entry.reference))
    record("case.overdue", actor=actor, object_type="case", fields=DEADLINE_FIELDS)
    return found

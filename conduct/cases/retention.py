"""Retention: closed cases lose their identities once the organisation's period has passed.

A closed case (closed or closed_other) is due when ``CONDUCT_RETENTION_YEARS`` years have
passed since the day it was closed (its last move into a closing status). Due cases are
crypto-shredded (:func:`~conduct.cases.services.shred_case`): their data keys are destroyed, so
names, narratives, attachments and every other identifying field can never be read again, and
their persons stop answering screening. Coded facts stay, sealed with the statistics key, so
the statistics keep counting them.

A case with a substantiated finding is what screening exists for (vetting before deployment),
so it is kept until ``CONDUCT_RETENTION_SUBSTANTIATED_YEARS`` years have passed, or for ever
when that is unset. A case reopened after its closing is no longer closed, and not due.

Working out what is due reads coded facts (status, history, findings) with the statistics key
only: no case's data key is unwrapped for it. The review is one audit event; each case shredded
is one more (``retention.shred``), in the same transaction as the shredding.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from conduct.audit import record
from conduct.config import ConfigurationError
from conduct.core.db import db
from conduct.crypto.models import DataKey

from .models import Case
from .services import shred_case
from .workflow import CLOSING_STATUSES, last_entered

ACTION_REVIEW = "retention.review"
ACTION_SHRED = "retention.shred"
# What the review reads of each case (the fields its audit event names).
REVIEWED_FIELDS = ("status", "history.to", "history.at", "findings.finding")
REVIEW_CHUNK = 1000


@dataclass(frozen=True)
class RetentionPolicy:
    years: int
    substantiated_years: int | None  # None: cases with a substantiated finding are kept

    @classmethod
    def from_settings(cls, settings) -> RetentionPolicy:
        if settings.retention_years is None:
            raise ConfigurationError(
                "no retention period is set: set CONDUCT_RETENTION_YEARS to the years your "
                "organisation keeps a closed case's identities (docs/operations.md, Retention)"
            )
        return cls(settings.retention_years, settings.retention_substantiated_years)

    def years_for(self, substantiated: bool) -> int | None:
        return self.substantiated_years if substantiated else self.years


@dataclass(frozen=True)
class ClosedCase:
    """A closed case that still has its identities, as the review sees it (no identity)."""

    id: uuid.UUID
    reference: str
    mission: str
    closed_on: date
    substantiated: bool
    due_on: date | None  # None: kept for ever under the policy

    def is_due(self, today: date) -> bool:
        return self.due_on is not None and self.due_on <= today


@dataclass
class Review:
    today: date
    due: list[ClosedCase]
    kept: list[ClosedCase]  # closed, not due yet or kept for ever

    @property
    def held_for_screening(self) -> list[ClosedCase]:
        """Closed cases kept for ever because of a substantiated finding."""
        return [case for case in self.kept if case.due_on is None]


def years_after(day: date, years: int) -> date:
    """The same day ``years`` years later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def closed_on(case: Case) -> date | None:
    """The day the case last moved into a closing status, or None if the history has none."""
    return last_entered(case, CLOSING_STATUSES)


def assess(case: Case, policy: RetentionPolicy) -> ClosedCase | None:
    """The case as the policy sees it; None when it is not closed, or was closed without a
    history (not by this service: kept, since its closing day is unknown)."""
    if case.status not in CLOSING_STATUSES:
        return None
    closed = closed_on(case)
    if closed is None:
        return None
    substantiated = any(finding.finding == "substantiated" for finding in case.findings)
    years = policy.years_for(substantiated)
    return ClosedCase(
        id=case.id,
        reference=case.reference,
        mission=case.mission_code,
        closed_on=closed,
        substantiated=substantiated,
        due_on=None if years is None else years_after(closed, years),
    )


def review(actor, policy: RetentionPolicy, today: date) -> Review:
    """Every closed case that still has its data key, split into due and kept. Audited once."""
    due, kept = [], []
    for case in _live_cases():
        item = assess(case, policy)
        if item is not None:
            (due if item.is_due(today) else kept).append(item)
    record(ACTION_REVIEW, actor=actor, object_type="case", fields=REVIEWED_FIELDS)
    due.sort(key=lambda item: (item.closed_on, item.reference))
    return Review(today, due, kept)


def _live_cases_query():
    """Cases whose data key still exists, with what :func:`assess` reads of them."""
    return (
        select(Case)
        .where(Case.id.in_(select(DataKey.case_id)))
        .options(selectinload(Case.history), selectinload(Case.findings))
    )


def _live_cases() -> Iterator[Case]:
    """Every live case, read in chunks so that a large database is not held in the session
    at once."""
    session = db.session
    after = None
    while True:
        query = _live_cases_query().order_by(Case.id).limit(REVIEW_CHUNK)
        if after is not None:
            query = query.where(Case.id > after)
        cases = session.scalars(query).all()
        if not cases:
            return
        yield from cases
        after = cases[-1].id
        for case in cases:
            session.expunge(case)


def shred_due(
    actor,
    policy: RetentionPolicy,
    today: date,
    cases: list[ClosedCase],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Shred each of ``cases`` that is still due (checked again: it may have been reopened or
    shredded since the review). Runs in the caller's transaction; returns how many."""
    ids = [item.id for item in cases]
    shredded = 0
    for case in db.session.scalars(_live_cases_query().where(Case.id.in_(ids))).all():
        now = assess(case, policy)
        if now is not None and now.is_due(today):
            shred_case(actor, case, action=ACTION_SHRED)
            shredded += 1
    if progress is not None:
        progress(len(cases))
    return shredded

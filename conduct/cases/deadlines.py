"""Deadlines of a case, from configuration with defaults, and which of them are overdue.

Rules (docs/workflow.md explains them for officers):

- referral: a case needs a referral with purpose investigation within ``referral_days`` days
  of its receipt;
- finding: the investigation needs a finding within ``finding_days`` days of the first
  investigation referral;
- member-state reply: a member state answers within ``member_state_working_days`` working
  days (Monday to Friday) of the case moving to pending_member_state, and of each referral to
  a member state (entity member_state or tcc_pcc_nio) not yet acknowledged;
- referral answer: a referral given its own due date (``due_on``) is answered by then, that
  is acknowledged (:func:`overdue_referral_answers`; pages list it with the others).

A deadline is met on its due date and overdue from the day after. Closed cases (closed and
closed_other) have no deadlines. The functions here only read the case: they are pure, so
lists, pages and statistics can all use them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from .workflow import CLOSING_STATUSES, MEMBER_STATE_ENTITIES, last_entered

FINDING_STATUSES = ("substantiated", "not_substantiated")
KINDS = ("referral", "finding", "member_state_reply", "referral_answer")
# What working out a case's deadlines reads of it: the fields named by the audit event of any
# read that shows deadlines or overdue items.
FIELDS = (
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
class DeadlineRules:
    """How long each step may take; defaults are the brief's."""

    referral_days: int = 7
    finding_days: int = 90
    member_state_working_days: int = 10

    @classmethod
    def from_settings(cls, settings) -> DeadlineRules:
        return cls(
            referral_days=settings.deadline_referral_days,
            finding_days=settings.deadline_finding_days,
            member_state_working_days=settings.deadline_member_state_working_days,
        )


@dataclass(frozen=True)
class Deadline:
    """A step still awaited, and the day it is due."""

    kind: str
    due_on: date


@dataclass(frozen=True)
class OverdueItem:
    kind: str
    due_on: date
    days_overdue: int


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days (Monday to Friday) after ``start``."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def _investigation_referrals(case) -> list:
    return [referral for referral in case.referrals if referral.purpose == "investigation"]


def _entered_member_state_wait(case) -> date | None:
    """The day the case last moved to pending_member_state, if it is waiting there now."""
    if case.status != "pending_member_state":
        return None
    return last_entered(case, ("pending_member_state",))


def open_deadlines(case, rules: DeadlineRules) -> list[Deadline]:
    """Every deadline of the case still awaited, earliest first."""
    if case.status in CLOSING_STATUSES:
        return []
    return sorted(_awaited(case, rules), key=lambda deadline: (deadline.due_on, deadline.kind))


def _awaited(case, rules: DeadlineRules) -> Iterator[Deadline]:
    investigations = _investigation_referrals(case)
    if not investigations:
        yield Deadline("referral", case.received_on + timedelta(days=rules.referral_days))
    elif case.status not in FINDING_STATUSES:
        first = min(referral.referred_on for referral in investigations)
        yield Deadline("finding", first + timedelta(days=rules.finding_days))
    waiting_since = _entered_member_state_wait(case)
    if waiting_since is not None:
        yield Deadline(
            "member_state_reply", add_working_days(waiting_since, rules.member_state_working_days)
        )
    for referral in case.referrals:
        if referral.entity in MEMBER_STATE_ENTITIES and referral.acknowledged_on is None:
            due = add_working_days(referral.referred_on, rules.member_state_working_days)
            yield Deadline("member_state_reply", due)


def overdue(case, today: date, rules: DeadlineRules) -> list[OverdueItem]:
    """The deadlines of the case that have passed by ``today``; closed cases have none."""
    return _passed(open_deadlines(case, rules), today)


def _passed(deadlines: Iterable[Deadline], today: date) -> list[OverdueItem]:
    return [
        OverdueItem(deadline.kind, deadline.due_on, (today - deadline.due_on).days)
        for deadline in deadlines
        if today > deadline.due_on
    ]


def upcoming(case, today: date, rules: DeadlineRules) -> list[Deadline]:
    """The deadlines of the case still ahead of (or due on) ``today``, earliest first."""
    return [deadline for deadline in open_deadlines(case, rules) if deadline.due_on >= today]


def is_answer_awaited(referral) -> bool:
    """A referral given its own due date and not acknowledged yet."""
    return (
        referral.due_on is not None
        and referral.acknowledged_on is None
        and referral.status == "sent"
    )


def is_answer_overdue(referral, today: date) -> bool:
    """A referral with its own due date, still not acknowledged the day after it."""
    return is_answer_awaited(referral) and today > referral.due_on


def answer_deadlines(case) -> Iterator[Deadline]:
    """The answers (acknowledgements) awaited to referrals with a due date; closed cases
    await none."""
    if case.status in CLOSING_STATUSES:
        return
    for referral in case.referrals:
        if is_answer_awaited(referral):
            yield Deadline("referral_answer", referral.due_on)


def overdue_referral_answers(case, today: date) -> list[OverdueItem]:
    """Referrals whose answer (acknowledgement) is overdue; closed cases have none."""
    return _passed(answer_deadlines(case), today)


def all_overdue(case, today: date, rules: DeadlineRules) -> list[OverdueItem]:
    """Every overdue item of the case, the rules' deadlines and referral answers, oldest first."""
    items = overdue(case, today, rules) + overdue_referral_answers(case, today)
    return sorted(items, key=lambda item: (item.due_on, item.kind))


def all_upcoming(case, today: date, rules: DeadlineRules) -> list[Deadline]:
    """Every deadline still ahead of (or due on) ``today``, the rules' and the answers awaited
    to referrals with a due date, earliest first."""
    items = upcoming(case, today, rules)
    items += [deadline for deadline in answer_deadlines(case) if deadline.due_on >= today]
    return sorted(items, key=lambda item: (item.due_on, item.kind))

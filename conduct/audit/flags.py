"""Flags for unusual access, computed from the audit log over a period.

Five kinds, each naming the account, the time range, the events behind it (ids) and the
filters that list those events:

- ``many_cases``: one account read at least ``audit_flag_cases`` distinct cases within
  ``audit_flag_window_minutes`` (one flag per burst, overlapping windows merged);
- ``outside_missions``: attempts to open a case outside the account's missions (the refusal
  is answered 404 like a missing case, and audited as a denial on the ``mission`` rule);
- ``denials``: at least ``audit_flag_denials`` refused requests (outcome ``denied``);
- ``unusual_hours``: activity outside working hours or working days (in
  ``audit_timezone``), one flag per account and local day;
- ``exports``: any export (audit CSV, report or log export), per account.

Thresholds come from the settings (``conduct/config.py``, documented in docs/operations.md).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import select

from conduct.config import Settings, audit_timezone, working_days, working_hours
from conduct.core.db import db, utcnow

from .events import record
from .logformat import canonical_time
from .models import AuditEvent
from .schemas import FLAG_KINDS
from .workspace import account_emails

# Actions that read one case: the "many cases" flag counts the distinct cases they name.
CASE_READ_ACTIONS = ("case.read", "case.deadlines", "person.other_cases")
# A flag lists at most this many event ids; ``event_count`` always has the full count.
MAX_EVENT_IDS = 500


@dataclass
class Flag:
    kind: str
    actor_id: uuid.UUID | None
    first_at: datetime
    last_at: datetime
    event_ids: list[int]
    event_count: int
    detail: dict[str, Any] = field(default_factory=dict)
    filters: dict[str, str] = field(default_factory=dict)
    actor_email: str | None = None


@dataclass
class FlagReport:
    since: datetime
    until: datetime | None  # exclusive; None: up to now
    flags: list[Flag]


def _flag(kind: str, actor_id, rows: Sequence, **detail) -> Flag:
    """A flag over these events, with the event-list filters that show exactly them."""
    filters = {
        "since": canonical_time(rows[0].occurred_at),
        "until": canonical_time(rows[-1].occurred_at),
    }
    if actor_id is not None:
        filters["actor"] = str(actor_id)
    for name in ("action", "outcome"):
        values = {getattr(row, name) for row in rows}
        if len(values) == 1:
            filters[name] = values.pop()
    return Flag(
        kind=kind,
        actor_id=actor_id,
        first_at=rows[0].occurred_at,
        last_at=rows[-1].occurred_at,
        event_ids=[row.id for row in rows[:MAX_EVENT_IDS]],
        event_count=len(rows),
        detail=detail,
        filters=filters,
    )


def _events(period, *conditions) -> list:
    """Events of the period matching the conditions, by account then time."""
    columns = (
        AuditEvent.id,
        AuditEvent.occurred_at,
        AuditEvent.actor_id,
        AuditEvent.action,
        AuditEvent.outcome,
        AuditEvent.case_reference,
        AuditEvent.fields,
    )
    query = select(*columns).where(*period, *conditions)
    order = (AuditEvent.actor_id, AuditEvent.occurred_at, AuditEvent.id)
    return db.session.execute(query.order_by(*order)).all()


def _by_account(rows) -> Iterable[tuple[uuid.UUID | None, list]]:
    for actor_id, group in groupby(rows, key=lambda row: row.actor_id):
        yield actor_id, list(group)


def many_cases_flags(period, settings: Settings) -> list[Flag]:
    rows = _events(
        period,
        AuditEvent.action.in_(CASE_READ_ACTIONS),
        AuditEvent.outcome == "success",
        AuditEvent.case_reference.is_not(None),
        AuditEvent.actor_id.is_not(None),
    )
    window = timedelta(minutes=settings.audit_flag_window_minutes)
    flags = []
    for actor_id, events in _by_account(rows):
        for start, end in bursts(events, window, settings.audit_flag_cases):
            burst = events[start : end + 1]
            cases = len({row.case_reference for row in burst})
            flags.append(
                _flag(
                    "many_cases",
                    actor_id,
                    burst,
                    cases=cases,
                    threshold=settings.audit_flag_cases,
                    window_minutes=settings.audit_flag_window_minutes,
                )
            )
    return flags


def bursts(events: Sequence, window: timedelta, threshold: int) -> list[tuple[int, int]]:
    """Index ranges (inclusive) of the events in which some ``window`` holds at least
    ``threshold`` distinct cases; overlapping ranges are merged into one."""
    found: list[tuple[int, int]] = []
    cases: Counter[str] = Counter()
    left = 0
    for right, event in enumerate(events):
        cases[event.case_reference] += 1
        while event.occurred_at - events[left].occurred_at > window:
            gone = events[left].case_reference
            cases[gone] -= 1
            if not cases[gone]:
                del cases[gone]
            left += 1
        if len(cases) < threshold:
            continue
        if found and left <= found[-1][1]:
            found[-1] = (found[-1][0], right)
        else:
            found.append((left, right))
    return found


def outside_missions_flags(period, settings: Settings) -> list[Flag]:
    rows = _events(
        period,
        AuditEvent.action == "request.refused",
        AuditEvent.outcome == "denied",
        AuditEvent.case_reference.is_not(None),
        AuditEvent.fields.contains("mission"),
    )
    flags = []
    for actor_id, events in _by_account(rows):
        events = [row for row in events if "mission" in row.fields.split(",")]
        if events:
            cases = sorted({row.case_reference for row in events})
            flags.append(_flag("outside_missions", actor_id, events, cases=cases))
    return flags


def denial_flags(period, settings: Settings) -> list[Flag]:
    rows = _events(period, AuditEvent.outcome == "denied", AuditEvent.actor_id.is_not(None))
    flags = []
    for actor_id, events in _by_account(rows):
        if len(events) >= settings.audit_flag_denials:
            actions = dict(Counter(row.action for row in events))
            flags.append(_flag("denials", actor_id, events, actions=actions))
    return flags


def unusual_hours_flags(period, settings: Settings) -> list[Flag]:
    zone = audit_timezone(settings.audit_timezone)
    start, end = working_hours(settings.audit_working_hours)
    days = working_days(settings.audit_working_days)

    def local_day_if_unusual(row):
        local = row.occurred_at.astimezone(zone)
        if local.weekday() in days and start <= local.time() < end:
            return None
        return local.date()

    rows = _events(period, AuditEvent.actor_id.is_not(None))
    flags = []
    for actor_id, events in _by_account(rows):
        unusual = [(local_day_if_unusual(row), row) for row in events]
        unusual = [(day, row) for day, row in unusual if day is not None]
        for day, group in groupby(unusual, key=lambda pair: pair[0]):
            on_day = [row for _, row in group]
            flags.append(
                _flag(
                    "unusual_hours",
                    actor_id,
                    on_day,
                    date=day.isoformat(),
                    working_day=day.weekday() in days,
                    timezone=settings.audit_timezone,
                )
            )
    return flags


def export_flags(period, settings: Settings) -> list[Flag]:
    rows = _events(period, AuditEvent.action.contains("export", autoescape=True))
    flags = []
    for actor_id, events in _by_account(rows):
        events = [row for row in events if "export" in row.action.replace(":", ".").split(".")]
        if events:
            actions = dict(Counter(row.action for row in events))
            flags.append(_flag("exports", actor_id, events, actions=actions))
    return flags


FINDERS = {
    "many_cases": many_cases_flags,
    "outside_missions": outside_missions_flags,
    "denials": denial_flags,
    "unusual_hours": unusual_hours_flags,
    "exports": export_flags,
}
assert tuple(FINDERS) == FLAG_KINDS


def find_flags(auditor, query: Mapping[str, Any], settings: Settings) -> FlagReport:
    """Every flag of the period (default: the last ``audit_flag_days`` days), newest first.

    Audited as ``audit.flags.read`` with the names of the filters used.
    """
    since = query.get("since") or utcnow() - timedelta(days=settings.audit_flag_days)
    until = query.get("until")
    period = [AuditEvent.occurred_at >= since]
    if until is not None:
        period.append(AuditEvent.occurred_at < until)
    kinds = [query["kind"]] if query.get("kind") else list(FINDERS)
    flags = [flag for kind in kinds for flag in FINDERS[kind](period, settings)]
    emails = account_emails(flag.actor_id for flag in flags if flag.actor_id is not None)
    for flag in flags:
        flag.actor_email = emails.get(flag.actor_id)
    flags.sort(key=lambda flag: (flag.last_at, flag.kind), reverse=True)
    used = [name for name in ("since", "until", "kind") if query.get(name) is not None]
    record("audit.flags.read", actor=auditor, fields=used)
    db.session.flush()
    return FlagReport(since, until, flags)

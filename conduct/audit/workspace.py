"""The auditor workspace's queries: the filtered event list, its CSV export, and "who accessed
this case".

The log holds ids only; account emails are joined from the users table at read time, because
auditors may see who acted (that is the point of the workspace). Every read here is itself an
audit event, recorded after the query so that a page does not list its own read. The event
names the filters used; the values that are ids (the account filtered on, the case) go in the
event's id columns, and the other values (action, outcome, dates) are left out.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext
from sqlalchemy import and_, func, or_, select

from conduct.auth.models import User
from conduct.auth.services import normalise_email
from conduct.cases.models import Case
from conduct.core.db import db
from conduct.core.errors import CaseRef, ValidationFailed

from .events import record
from .models import AuditEvent
from .schemas import REFERENCE

FILTER_NAMES = ("actor", "case", "action", "outcome", "since", "until")
CSV_COLUMNS = (
    "id",
    "occurred_at",
    "action",
    "outcome",
    "actor_id",
    "actor_email",
    "actor_roles",
    "object_type",
    "object_id",
    "case_id",
    "case_reference",
    "fields",
    "request_id",
    "client_address",
)
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class EventFilter:
    """Loaded filters, the actor resolved to an account id."""

    actor_id: uuid.UUID | None = None
    case_reference: str | None = None
    case_id: uuid.UUID | None = None
    action: str | None = None
    action_prefix: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    used: tuple[str, ...] = ()

    def where(self) -> list:
        """The SQL conditions of these filters."""
        conditions = []
        for column, value in (
            (AuditEvent.actor_id, self.actor_id),
            (AuditEvent.case_reference, self.case_reference),
            (AuditEvent.case_id, self.case_id),
            (AuditEvent.action, self.action),
            (AuditEvent.outcome, self.outcome),
        ):
            if value is not None:
                conditions.append(column == value)
        if self.action_prefix is not None:
            conditions.append(AuditEvent.action.startswith(self.action_prefix, autoescape=True))
        if self.since is not None:
            conditions.append(AuditEvent.occurred_at >= self.since)
        if self.until is not None:
            conditions.append(AuditEvent.occurred_at < self.until)
        return conditions


@dataclass
class EventPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    per_page: int


def resolve_actor(value: str) -> uuid.UUID:
    """An account id, or the id of the account with this email; 400 naming ``actor``."""
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    found = db.session.scalar(select(User.id).where(User.email == normalise_email(value)))
    if found is None:
        raise ValidationFailed.of({"actor": [gettext("no account has this id or email")]})
    return found


def event_filter(query: Mapping[str, Any]) -> EventFilter:
    """Filters loaded by ``EventQuery`` (or ``FlagQuery``) as conditions on the log."""
    values: dict[str, Any] = {
        "outcome": query.get("outcome"),
        "since": query.get("since"),
        "until": query.get("until"),
        "used": tuple(name for name in FILTER_NAMES if query.get(name) is not None),
    }
    if query.get("actor") is not None:
        values["actor_id"] = resolve_actor(query["actor"])
    case = query.get("case")
    if case is not None and REFERENCE.match(case):
        # The case id is indexed in the log; the reference is kept for the read's own event.
        values["case_reference"] = case
        values["case_id"] = case_id_of(case)
    elif case is not None:
        values["case_id"] = uuid.UUID(case)
    action = query.get("action")
    if action is not None:
        prefix = action.removesuffix("*")
        key = "action_prefix" if prefix.endswith(".") else "action"
        values[key] = prefix
    return EventFilter(**values)


def case_id_of(reference: str) -> uuid.UUID | None:
    """The id of the case with this reference, if there is one (every event naming a case
    carries both its id and its reference)."""
    return db.session.scalar(select(Case.id).where(Case.reference == reference))


def _record_read(action: str, auditor, filters: EventFilter, extra: tuple[str, ...] = ()):
    case = None
    if filters.case_reference or filters.case_id:
        case = CaseRef(filters.case_id, filters.case_reference)
    record(
        action,
        actor=auditor,
        object_type=None if filters.actor_id is None else "account",
        object_id=filters.actor_id,
        case=case,
        fields=(*filters.used, *extra),
    )


# Newest first, with the id to order events of the same microsecond.
_NEWEST_FIRST = (AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _cursor_of(item: dict[str, Any]) -> str:
    return f"{_micros(item['occurred_at'])}-{item['id']}"


def _after_cursor(cursor: str):
    """Events strictly older than the cursor's event in the list's order (keyset paging)."""
    micros, event_id = (int(part) for part in cursor.split("-"))
    try:
        moment = EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise ValidationFailed.of({"cursor": [gettext("not a cursor of this list")]}) from None
    # The first condition alone lets the database walk the occurred_at index from the cursor.
    return and_(
        AuditEvent.occurred_at <= moment,
        or_(
            AuditEvent.occurred_at < moment,
            and_(AuditEvent.occurred_at == moment, AuditEvent.id < event_id),
        ),
    )


# Plain rows, not ORM objects: cheap to read in bulk, and nothing to reload after a rollback.
_EVENT_COLUMNS = list(AuditEvent.__table__.columns)


def _select_events(filters: EventFilter, cursor: str | None, limit: int):
    query = (
        select(*_EVENT_COLUMNS, User.email.label("actor_email"))
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(*filters.where())
        .order_by(*_NEWEST_FIRST)
        .limit(limit)
    )
    if cursor is not None:
        query = query.where(_after_cursor(cursor))
    return db.session.execute(query).all()


def _as_item(row) -> dict[str, Any]:
    item = row._asdict()
    item["actor_roles"] = row.actor_roles.split(",") if row.actor_roles else []
    item["fields"] = row.fields.split(",") if row.fields else []
    return item


def list_events(auditor, query: Mapping[str, Any]) -> EventPage:
    """One page of events matching the filters, newest first. Audited as ``audit.events.read``.

    Pages are keyset pages: ``next_cursor`` names the last event shown, and events recorded
    meanwhile never shift the next page.
    """
    filters = event_filter(query)
    per_page = query.get("per_page", 50)
    rows = _select_events(filters, query.get("cursor"), per_page + 1)
    items = [_as_item(row) for row in rows[:per_page]]
    next_cursor = _cursor_of(items[-1]) if len(rows) > per_page else None
    extra = ("cursor",) if query.get("cursor") else ()
    _record_read("audit.events.read", auditor, filters, extra)
    db.session.flush()
    return EventPage(items, next_cursor, per_page)


def export_events(auditor, query: Mapping[str, Any]) -> Iterator[str]:
    """The events matching the filters as CSV text, newest first, in batches.

    The export is audited (``audit.export.csv``) before any row is produced; the request
    commits that event, and the rows are then read batch by batch, each batch in a short
    read-only transaction, so a long download never holds the database.
    """
    filters = event_filter(query)
    _record_read("audit.export.csv", auditor, filters)
    db.session.flush()
    return _csv_lines(filters)


def _csv_lines(filters: EventFilter) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield take()
    cursor = None
    while True:
        rows = _select_events(filters, cursor, EXPORT_BATCH)
        db.session.rollback()  # the batch is read; release the transaction between batches
        for row in rows:
            writer.writerow(_csv_cells(_as_item(row)))
        if rows:
            yield take()
        if len(rows) < EXPORT_BATCH:
            return
        cursor = f"{_micros(rows[-1].occurred_at)}-{rows[-1].id}"


def _csv_cells(item: dict[str, Any]) -> list[str]:
    cells = []
    for column in CSV_COLUMNS:
        value = item[column]
        if isinstance(value, list):
            value = ";".join(value)
        elif isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()
        text = "" if value is None else str(value)
        # A spreadsheet runs a cell that starts like a formula: keep it text.
        cells.append("'" + text if text[:1] in ("=", "+", "-", "@") else text)
    return cells


@dataclass
class AccountAccess:
    actor_id: uuid.UUID | None
    actor_email: str | None = None
    first_at: datetime | None = None
    last_at: datetime | None = None
    events: int = 0
    refused: int = 0
    actions: dict[str, int] = field(default_factory=dict)


@dataclass
class CaseAccess:
    reference: str
    case_id: uuid.UUID | None
    accounts: list[AccountAccess]


def case_access(auditor, reference: str) -> CaseAccess:
    """Every event on one case, grouped by account: first and last access, counts per action.

    Refusals on the case (out of scope, recused) count too, in ``refused``. Audited as
    ``audit.case_access.read`` on the case.
    """
    case_id = case_id_of(reference)
    # By the indexed case id when the case exists; by reference for a case that does not.
    on_case = (
        AuditEvent.case_reference == reference if case_id is None else AuditEvent.case_id == case_id
    )
    grouped = db.session.execute(
        select(
            AuditEvent.actor_id,
            AuditEvent.action,
            AuditEvent.outcome,
            func.min(AuditEvent.occurred_at),
            func.max(AuditEvent.occurred_at),
            func.count(),
        )
        .where(on_case)
        .group_by(AuditEvent.actor_id, AuditEvent.action, AuditEvent.outcome)
    ).all()
    accounts: dict[uuid.UUID | None, AccountAccess] = {}
    for actor_id, action, outcome, first_at, last_at, count in grouped:
        account = accounts.setdefault(actor_id, AccountAccess(actor_id))
        _add_access(account, action, outcome, first_at, last_at, count)
    _fill_emails(accounts)
    ordered = sorted(accounts.values(), key=lambda account: account.last_at, reverse=True)
    record(
        "audit.case_access.read",
        actor=auditor,
        object_type="case",
        object_id=case_id,
        case=CaseRef(case_id, reference),
    )
    db.session.flush()
    return CaseAccess(reference, case_id, ordered)


def _add_access(account: AccountAccess, action, outcome, first_at, last_at, count) -> None:
    account.first_at = first_at if account.first_at is None else min(account.first_at, first_at)
    account.last_at = last_at if account.last_at is None else max(account.last_at, last_at)
    account.events += count
    account.refused += count if outcome != "success" else 0
    account.actions[action] = account.actions.get(action, 0) + count


def _fill_emails(accounts: Mapping[uuid.UUID | None, AccountAccess]) -> None:
    emails = account_emails(key for key in accounts if key is not None)
    for actor_id, account in accounts.items():
        account.actor_email = emails.get(actor_id)


def account_emails(ids) -> dict[uuid.UUID, str]:
    """Emails of these accounts, read now (the log itself holds only ids)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = db.session.execute(select(User.id, User.email).where(User.id.in_(wanted)))
    return {user_id: email for user_id, email in rows}

"""Helpers for the audit log's tests: write events, seal, verify, and tamper like a DBA."""

from __future__ import annotations

from sqlalchemy import text

from conduct.audit import record
from conduct.audit.append_only import drop_statements
from conduct.audit.checkpoints import log_origin
from conduct.audit.cli import snapshot
from conduct.audit.logformat import leaf_hash
from conduct.audit.models import APPEND_ONLY_TABLES
from conduct.audit.rows import event_columns, row_encoder
from conduct.audit.sealer import seal
from conduct.audit.verify import verify_log
from conduct.core.db import db, unit_of_work
from conduct.crypto.audit_signing import audit_public_key


def add_events(count: int, action: str = "test.event") -> None:
    """``count`` events in one committed unit of work."""
    with unit_of_work():
        for number in range(count):
            record(action, object_type="thing", object_id=str(number))


def add_event_with_id(event_id: int) -> None:
    """An event with a chosen id, as when a transaction that took an id early commits late."""
    from conduct.audit.models import AuditEvent

    with unit_of_work() as session:
        session.add(AuditEvent(id=event_id, action="test.late", outcome="success", fields=""))


def seal_now(**options):
    db.session.rollback()  # end the test's own read, which holds SQLite's write lock
    with db.engine.begin() as connection:
        return seal(connection, **options)


def sealed_one_by_one(count: int) -> None:
    """``count`` events, each sealed in a checkpoint of its own."""
    for _ in range(count):
        add_events(1)
        seal_now()


def verify(trusted_note: str | None = None, **options):
    db.session.rollback()
    with snapshot() as connection:
        return verify_log(
            connection, audit_public_key(), log_origin(), trusted_note=trusted_note, **options
        )


def scalar(sql: str, **params):
    with db.engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def as_administrator(*statements: str, **params) -> None:
    """Drop the append-only triggers, as a database owner could, then run ``statements``."""
    db.session.rollback()
    with db.engine.begin() as connection:
        dialect = connection.dialect.name
        for table in APPEND_ONLY_TABLES:
            for statement in drop_statements(dialect, table.name):
                connection.execute(text(statement))
        for statement in statements:
            connection.execute(text(statement), params)


def event_at(index: int) -> int:
    return scalar("SELECT event_id FROM audit_leaves WHERE leaf_index = :i", i=index)


def current_leaf_hash(event_id: int) -> bytes:
    """The leaf hash the event's present columns give (what a careful forger would store)."""
    with db.engine.connect() as connection:
        columns = event_columns(connection.dialect.name)
        row = connection.execute(
            text(f"SELECT {columns} FROM audit_events e WHERE e.id = :id"), {"id": event_id}
        ).one()
        return leaf_hash(row_encoder(connection.dialect.name)(row))

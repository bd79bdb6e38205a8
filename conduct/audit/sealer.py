"""The sealer: gives audit events their leaf index, extends the Merkle tree, signs a checkpoint.

Writing an event never waits for anyone: requests only insert rows into ``audit_events``. The
sealer, one at a time (a PostgreSQL advisory lock; on SQLite the write lock every transaction
takes with BEGIN IMMEDIATE), takes the events it can see that have no leaf yet, in id order,
gives them the next leaf indexes, and in the same transaction inserts their leaves and a
signed checkpoint of the new tree. Auto-increment ids are not commit order: an event that
commits late simply joins the next checkpoint. Nothing is ever updated.

The tree is extended from the latest checkpoint's frontier, so a seal hashes only its new
leaves. It runs after a request when the latest checkpoint is older than
``CONDUCT_AUDIT_SEAL_SECONDS`` (never waiting: not for another server's seal on PostgreSQL, not
for another transaction's write lock on SQLite), and on
``conduct audit seal``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, g
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from conduct.core.db import READ_ONLY, SQLITE_BUSY_TIMEOUT_MS, db, utcnow
from conduct.crypto.audit_signing import audit_public_key, sign_checkpoint

from .checkpoints import latest_checkpoint, log_origin
from .logformat import (
    EVENT_COLUMNS,
    Checkpoint,
    Frontier,
    leaf_hash,
    signed_note,
)
from .models import AuditCheckpoint, AuditLeaf
from .rows import row_encoder, unsealed_events

log = logging.getLogger(__name__)

# An arbitrary constant naming the sealer's PostgreSQL advisory lock ("conduct" + 0x01).
ADVISORY_LOCK = 0x636F6E6475637401
BATCH = 10_000
# No transaction holding an audit event stays open this long after taking its id. Events
# whose ids are below those sealed this long ago are all committed and sealed already, so
# the search for unsealed events after a request starts there; `conduct audit seal` looks at
# every event.
LATE_EVENT_HORIZON = timedelta(hours=1)

_ID = EVENT_COLUMNS.index("id")


class SealError(RuntimeError):
    """The stored tree cannot be extended safely; ``conduct audit verify`` says why."""


@dataclass(frozen=True)
class SealResult:
    tree_size: int
    sealed: int
    note: str | None


def seal(connection: Connection, *, wait: bool = True, thorough: bool = True) -> SealResult | None:
    """Seal every unsealed event visible to ``connection``'s transaction; commit is the caller's.

    ``wait=False`` returns None at once if another sealer holds the lock (PostgreSQL).
    ``thorough=False`` looks for unsealed events only above :data:`LATE_EVENT_HORIZON`.
    """
    if not _lock(connection, wait):
        return None
    latest = latest_checkpoint(connection)
    frontier = _frontier_of(latest)
    max_event_id = 0 if latest is None else latest.max_event_id
    after = 0 if thorough or latest is None else late_event_floor(connection, latest.created_at)
    dialect = connection.dialect.name
    sealed, query, encode = 0, unsealed_events(dialect), row_encoder(dialect)
    while True:
        rows = connection.execute(query, {"after": after, "limit": BATCH}).all()
        if not rows:
            break
        digests = [leaf_hash(encode(row)) for row in rows]
        leaves = [
            {"leaf_index": frontier.size + offset, "event_id": row[_ID], "leaf_hash": digest}
            for offset, (row, digest) in enumerate(zip(rows, digests, strict=True))
        ]
        frontier.extend(digests)
        connection.execute(insert(AuditLeaf), leaves)
        sealed += len(rows)
        after = rows[-1][_ID]
        max_event_id = max(max_event_id, after)
    if not sealed:
        return SealResult(frontier.size, 0, None)
    note = _sign(frontier)
    connection.execute(
        insert(AuditCheckpoint).values(
            tree_size=frontier.size,
            root_hash=frontier.root(),
            frontier=frontier.to_bytes(),
            max_event_id=max_event_id,
            note=note,
            created_at=utcnow(),
        )
    )
    return SealResult(frontier.size, sealed, note)


def _lock(connection: Connection, wait: bool) -> bool:
    """One sealer at a time: a transaction-scoped advisory lock on PostgreSQL. On SQLite the
    transaction began with BEGIN IMMEDIATE and already holds the database's write lock."""
    if connection.dialect.name != "postgresql":
        return True
    if wait:
        connection.execute(select(text(f"pg_advisory_xact_lock({ADVISORY_LOCK})")))
        return True
    return bool(connection.scalar(select(text(f"pg_try_advisory_xact_lock({ADVISORY_LOCK})"))))


def _frontier_of(latest) -> Frontier:
    if latest is None:
        return Frontier()
    frontier = Frontier.from_bytes(latest.tree_size, bytes(latest.frontier))
    if frontier.root() != bytes(latest.root_hash):
        raise SealError(
            f"the stored frontier of checkpoint {latest.tree_size} does not give its root: "
            "run `conduct audit verify`"
        )
    return frontier


def late_event_floor(connection: Connection, latest_at: datetime) -> int:
    """The largest event id under which every event is committed and sealed already.

    Every event with an id at most checkpoint C's ``max_event_id`` took its id before C was
    made, so it committed before ``C.created_at + horizon``; a later checkpoint made after that
    moment saw it and sealed it.
    """
    floor = connection.scalar(
        select(AuditCheckpoint.max_event_id)
        .where(AuditCheckpoint.created_at <= latest_at - LATE_EVENT_HORIZON)
        .order_by(AuditCheckpoint.tree_size.desc())
        .limit(1)
    )
    return floor or 0


def _sign(frontier: Frontier) -> str:
    origin = log_origin()
    body = Checkpoint(origin, frontier.size, frontier.root()).body()
    return signed_note(body, origin, audit_public_key(), sign_checkpoint(body))


# --- Sealing after requests -----------------------------------------------------------------


def seal_if_due() -> None:
    """After a request's commit: seal when the latest checkpoint is older than the setting.

    Each process remembers when the next look is due, so most requests cost nothing here. A
    failure is logged (its kind, never its text, which could quote row values) and the request
    goes on: its own transaction is committed already.
    """
    app = current_app._get_current_object()
    state = app.extensions.setdefault("conduct_audit_sealer", {"next_look": 0.0})
    if time.monotonic() < state["next_look"]:
        return
    interval = app.extensions["conduct_settings"].audit_seal_seconds
    try:
        wait = _seconds_until_due(interval)
        if wait <= 0:
            with _transaction_without_waiting() as connection:
                seal(connection, wait=False, thorough=False)
            wait = interval
        state["next_look"] = time.monotonic() + wait
    except _SqliteBusy:
        return  # another transaction holds SQLite's write lock: a later request seals
    except Exception as error:  # noqa: BLE001 - sealing must never fail the request
        log.error(
            "sealing the audit log after request %s failed: %s",
            g.get("request_id"),
            type(error).__name__,
        )


class _SqliteBusy(Exception):
    """SQLite's write lock is held by another transaction."""


@contextmanager
def _transaction_without_waiting() -> Iterator[Connection]:
    """A transaction for sealing after a request that never makes the request wait.

    On PostgreSQL the sealer's lock is a try-lock already. On SQLite the transaction takes the
    write lock as it begins, and would wait up to the busy timeout behind a long transaction
    (an import): here the timeout is zero for this one transaction, so a held lock raises
    :class:`_SqliteBusy` at once, and the connection gets its usual timeout back after.
    """
    with db.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            with connection.begin():
                yield connection
            return
        driver = connection.connection.driver_connection
        driver.execute("PRAGMA busy_timeout=0")
        try:
            try:
                transaction = connection.begin()
            except OperationalError as error:
                if "locked" not in str(error.orig):
                    raise
                raise _SqliteBusy from None
            with transaction:
                yield connection
        finally:
            driver.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def _seconds_until_due(interval: int) -> float:
    with db.engine.connect().execution_options(**READ_ONLY) as connection:
        latest_at = connection.scalar(select(func.max(AuditCheckpoint.created_at)))
    if latest_at is None:
        return 0
    return interval - (utcnow() - latest_at).total_seconds()


def init_app(app: Flask) -> None:
    """Seal after each request's commit when a checkpoint is due."""
    app.extensions.setdefault("conduct_after_commit", []).append(seal_if_due)

"""The audit event table.

Rows are only ever inserted. An event holds ids, action and field names and an outcome: never
a value of a sealed field (not even a coded one such as a status), never a name or narrative.
The Merkle tree that makes the log tamper-evident is built beside it, in insert-only tables
that refer to events by id, so no event row is ever updated.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conduct.core.db import db, utcnow

from . import append_only

# SQLite only auto-increments an INTEGER PRIMARY KEY.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    actor_roles: Mapped[str | None] = mapped_column(String(100))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    case_reference: Mapped[str | None] = mapped_column(String(32))
    fields: Mapped[str] = mapped_column(String(1000), default="")
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))


class AuditLeaf(db.Model):
    """One leaf of the Merkle tree: the event at ``leaf_index``, in the sealer's order.

    ``leaf_hash`` is SHA-256(0x00 || canonical encoding of the event) at sealing time, kept so
    that a later change to the event shows at its own index.
    """

    __tablename__ = "audit_leaves"

    # On SQLite an INTEGER primary key is the row id: the leaves are stored in index order.
    leaf_index: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(db.Model):
    """A signed checkpoint: the tree of the first ``tree_size`` leaves and its root.

    ``note`` is the signed note as served. ``frontier`` (the roots of the perfect subtrees that
    make up the tree) lets the next seal extend the tree without reading old leaves;
    ``max_event_id`` is the largest event id sealed so far, which bounds the search for events
    committed late.
    """

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    max_event_id: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


APPEND_ONLY_TABLES = (AuditEvent.__table__, AuditLeaf.__table__, AuditCheckpoint.__table__)
for _table in APPEND_ONLY_TABLES:
    append_only.attach(_table)

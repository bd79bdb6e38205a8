"""Checkpoints as the service gives them out: the log's origin, and the latest signed note."""

from __future__ import annotations

import hashlib

from flask import current_app
from sqlalchemy import select
from sqlalchemy.engine import Connection

from conduct.core.db import db
from conduct.core.errors import NotFound
from conduct.crypto.audit_signing import audit_public_key

from .events import record
from .models import AuditCheckpoint


def log_origin() -> str:
    """The checkpoints' origin line and signed-note key name.

    ``CONDUCT_AUDIT_ORIGIN`` when set (say, ``conduct.example.org/audit``); otherwise one
    derived from the audit-signing public key, the same on every server of a deployment and
    different between deployments.
    """
    configured = current_app.extensions["conduct_settings"].audit_origin
    if configured:
        return configured
    return f"conduct.local/audit-{hashlib.sha256(audit_public_key()).hexdigest()[:8]}"


def latest_checkpoint(connection: Connection):
    """The row of the largest checkpoint, or None before the first seal."""
    columns = select(
        AuditCheckpoint.tree_size,
        AuditCheckpoint.root_hash,
        AuditCheckpoint.frontier,
        AuditCheckpoint.max_event_id,
        AuditCheckpoint.note,
        AuditCheckpoint.created_at,
    )
    return connection.execute(columns.order_by(AuditCheckpoint.tree_size.desc()).limit(1)).first()


def read_latest_checkpoint(actor) -> str:
    """The latest signed checkpoint note, for ``actor``; the read is audited."""
    note = latest_checkpoint(db.session.connection())
    if note is None:
        raise NotFound("the audit log has no checkpoint yet: it is sealed after the next request")
    record("audit.checkpoint_read", actor=actor, object_type="checkpoint", object_id=note.tree_size)
    db.session.flush()
    return note.note

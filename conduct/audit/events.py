"""Recording audit events. Services call :func:`record` in the same transaction as the access.

The recorder checks that everything it stores is a name (an action, a field, an object type)
or an id, so that a value cannot slip into the log by mistake.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from conduct.core.db import db

from .models import AuditEvent

OUTCOMES = frozenset({"success", "denied", "failed", "invalid"})
_NAME = re.compile(r"^_?[a-z][a-z0-9_.:-]{0,63}$")
REFERENCE = re.compile(r"^[A-Z]{2,16}-\d{4}-\d{4,6}$")  # a case reference
_OBJECT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class AuditError(ValueError):
    """An audit event was asked to hold something that is not a name or an id."""


def is_name(value: str) -> bool:
    return bool(_NAME.match(value))


def _name(kind: str, value: str) -> str:
    if not _NAME.match(value):
        raise AuditError(f"audit {kind} must be a lower-case name, got something else")
    return value


def record(
    action: str,
    *,
    actor=None,
    outcome: str = "success",
    object_type: str | None = None,
    object_id: uuid.UUID | str | None = None,
    case=None,
    fields: Iterable[str] = (),
) -> AuditEvent:
    """Add one audit event to the current transaction and return it (flushed by the caller).

    ``actor`` is the acting user (or None for anonymous requests); ``case`` anything with
    ``id`` and ``reference``; ``fields`` the names of the fields read or changed.
    """
    if outcome not in OUTCOMES:
        raise AuditError(f"audit outcome must be one of {sorted(OUTCOMES)}")
    field_names = sorted({_name("field", field) for field in fields})
    reference = getattr(case, "reference", None)
    if reference is not None and not REFERENCE.match(reference):
        raise AuditError("audit case reference is not a case reference")
    object_text = None if object_id is None else str(object_id)
    if object_text is not None and not _OBJECT_ID.match(object_text):
        raise AuditError("audit object id must be an id")
    event = AuditEvent(
        action=_name("action", action),
        outcome=outcome,
        actor_id=getattr(actor, "id", None),
        actor_roles=",".join(sorted(getattr(actor, "roles", ()))) or None,
        object_type=None if object_type is None else _name("object type", object_type),
        object_id=object_text,
        case_id=getattr(case, "id", None),
        case_reference=reference,
        fields=",".join(field_names),
        **_request_context(),
    )
    db.session.add(event)
    return event


def _request_context() -> dict[str, str | None]:
    from flask import g, has_request_context, request

    if not has_request_context():
        return {"request_id": None, "client_address": None}
    return {"request_id": g.get("request_id"), "client_address": request.remote_addr}

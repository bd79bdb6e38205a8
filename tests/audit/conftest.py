"""Fixtures of the auditor workspace tests: accounts, and a past written into the audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from conduct.audit import record
from conduct.core.db import db, unit_of_work


def moment(text: str) -> datetime:
    """``"2026-03-02 10:15"`` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def case_ref(number: int, mission: str = "MINUSCA") -> SimpleNamespace:
    """A case as the recorder sees it: an id and a reference (the number picks both)."""
    return SimpleNamespace(id=uuid.UUID(int=number), reference=f"{mission}-2026-{number:04d}")


@pytest.fixture
def history(app):
    """``history(action, at=..., actor=..., case=..., outcome=..., fields=...)`` records an event
    through the real recorder as if it had happened at ``at``; returns its id."""

    def add(action, *, at, actor=None, case=None, outcome="success", fields=(), **more):
        with app.app_context(), unit_of_work():
            event = record(action, actor=actor, case=case, outcome=outcome, fields=fields, **more)
            event.occurred_at = at
            db.session.flush()
            return event.id

    return add


@pytest.fixture
def people(app, user_factory, api_login):
    """An auditor's logged-in API client, and two officers as the recorder sees actors."""
    auditor_id, auditor_email = user_factory(roles=("auditor",), missions=())
    client = app.test_client()
    assert api_login(client, auditor_id).status_code == 200
    officers = []
    for mission in ("MINUSCA", "MONUSCO"):
        user_id, email = user_factory(roles=("officer",), missions=(mission,))
        officers.append(SimpleNamespace(id=user_id, email=email, roles=frozenset({"officer"})))
    return SimpleNamespace(
        auditor=client, auditor_id=auditor_id, auditor_email=auditor_email, officers=officers
    )

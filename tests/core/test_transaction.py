"""One commit per request: a change and its audit event stand or fall together."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from conduct.audit.models import AuditEvent
from conduct.cases.models import Case
from conduct.core.db import db
from conduct.core.errors import Forbidden
from conduct.crypto.models import DataKey
from tests.factories import make_case


def _counts():
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    return count(Case), count(DataKey), count(AuditEvent)


class Boom(RuntimeError):
    pass


def test_a_unit_of_work_that_fails_after_writing_leaves_nothing(work):
    with pytest.raises(Boom), work():
        case = make_case()
        db.session.flush()
        assert case.reference.startswith("MINUSCA-2026-")
        raise Boom
    with work():
        assert _counts() == (0, 0, 0)


@pytest.fixture
def failing_routes(app, monkeypatch):
    """Open routes that write a case and its audit event, then fail in two different ways."""
    import conduct.auth.guard

    opened = {"create_then_refuse", "create_then_crash", "create"}
    monkeypatch.setattr(
        conduct.auth.guard, "OPEN_ENDPOINTS", conduct.auth.guard.OPEN_ENDPOINTS | opened
    )

    @app.post("/api/test/create-then-refuse")
    def create_then_refuse():
        make_case()
        raise Forbidden("not allowed after all")

    @app.post("/api/test/create-then-crash")
    def create_then_crash():
        make_case()
        raise Boom("unexpected")

    @app.post("/api/test/create")
    def create():
        return {"reference": make_case().reference}

    return app


def test_a_request_that_succeeds_commits_the_change_and_its_event(failing_routes, client):
    response = client.post("/api/test/create")
    assert response.status_code == 200
    with failing_routes.app_context():
        assert _counts() == (1, 1, 1)
        event = db.session.scalars(select(AuditEvent)).one()
        assert event.action == "case.create"
        assert event.request_id == response.headers["X-Request-ID"]


def test_a_refused_request_keeps_only_the_refusal_event(failing_routes, client):
    response = client.post("/api/test/create-then-refuse")
    assert response.status_code == 403
    with failing_routes.app_context():
        assert _counts() == (0, 0, 1)
        event = db.session.scalars(select(AuditEvent)).one()
        assert (event.action, event.outcome) == ("request.refused", "denied")


def test_a_crashing_request_leaves_nothing(failing_routes, client):
    response = client.post("/api/test/create-then-crash")
    assert response.status_code == 500
    with failing_routes.app_context():
        assert _counts() == (0, 0, 0)


def test_reads_outside_a_unit_of_work_are_refused(app):
    from conduct.crypto import NoVaultError

    with app.app_context():
        from conduct.core.db import unit_of_work

        with unit_of_work():
            case_id = make_case(received_on=date(2025, 1, 1)).id
        case = db.session.get(Case, case_id)
        with pytest.raises(NoVaultError):
            _ = case.narrative

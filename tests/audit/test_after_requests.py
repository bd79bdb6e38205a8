"""Sealing after requests, 16 writers at once, and the checkpoint endpoint."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from sqlalchemy import func, select

from conduct.audit import sealer
from conduct.audit.checkpoints import log_origin
from conduct.audit.logformat import parse_note
from conduct.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf
from conduct.core.db import SQLITE_BUSY_TIMEOUT_MS, db, unit_of_work
from tests.audit.support import add_events, seal_now, verify

WRITERS = 16
EVENTS_EACH = 25


def _count(model) -> int:
    """Read, then end the read: on SQLite it holds the write lock the sealer needs."""
    value = db.session.scalar(select(func.count()).select_from(model))
    db.session.rollback()
    return value


def _latest_size() -> int | None:
    value = db.session.scalar(select(func.max(AuditCheckpoint.tree_size)))
    db.session.rollback()
    return value


def test_a_request_seals_when_no_checkpoint_is_recent(app, user_factory, api_login):
    user_id, _ = user_factory(roles=("auditor",), missions=())
    client = app.test_client()
    assert api_login(client, user_id).status_code == 200
    with app.app_context():
        # the login's events were committed, then sealed after the request
        assert _latest_size() == _count(AuditEvent) > 0
        sealed = _latest_size()

    response = client.get("/api/v1/audit/checkpoint")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    with app.app_context():
        note = parse_note(response.get_data(as_text=True))
        assert note.checkpoint.origin == log_origin()
        assert note.checkpoint.size == sealed
        read = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "audit.checkpoint_read")
        ).one()
        assert read.actor_id == user_id and read.object_id == str(sealed)
        # the checkpoint is recent: this request's event waits for the next seal
        assert _latest_size() == sealed
        assert verify().unsealed == 1


def test_a_request_seals_again_once_the_interval_has_passed(make_app):
    app = make_app(CONDUCT_AUDIT_SEAL_SECONDS=1)
    with app.app_context():
        db.create_all()
        add_events(3)
        with app.test_request_context():
            sealer.seal_if_due()
        assert _latest_size() == 3
        add_events(2)
        with app.test_request_context():
            sealer.seal_if_due()  # too soon
        assert _latest_size() == 3
        time.sleep(1.1)
        with app.test_request_context():
            sealer.seal_if_due()
        assert _latest_size() == 5


def test_on_sqlite_a_held_write_lock_never_makes_the_request_wait(make_app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's sealer takes a try-lock; only SQLite waits for its write lock")
    import sqlite3

    app = make_app(CONDUCT_AUDIT_SEAL_SECONDS=1)
    with app.app_context():
        db.create_all()
        add_events(3)
        other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # a long transaction elsewhere (an import, say)
        try:
            started = time.monotonic()
            with app.test_request_context():
                sealer.seal_if_due()
            assert time.monotonic() - started < 2, "the request waited for the lock"
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert _latest_size() is None
        with db.engine.connect() as connection:  # the pooled connection waits again as usual
            timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            assert timeout == SQLITE_BUSY_TIMEOUT_MS
        with app.test_request_context():
            sealer.seal_if_due()  # the lock is free: this request seals
        assert _latest_size() == 3


def test_a_failing_seal_never_fails_the_request(app, client, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("the secret text of a row")

    monkeypatch.setattr(sealer, "seal", broken)
    with caplog.at_level(logging.ERROR, logger="conduct.audit.sealer"):
        response = client.post("/api/v1/session", json={"email": "x@y.z", "password": "p"})
    assert response.status_code in (400, 401)
    assert "sealing the audit log after request" in caplog.text
    assert "RuntimeError" in caplog.text and "secret text" not in caplog.text


def test_no_checkpoint_yet_answers_not_found(app, user_factory, api_login, monkeypatch):
    monkeypatch.setattr(sealer, "seal_if_due", lambda: None)
    app.extensions["conduct_after_commit"] = []
    user_id, _ = user_factory(roles=("auditor",), missions=())
    client = app.test_client()
    api_login(client, user_id)
    response = client.get("/api/v1/audit/checkpoint")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("role", ["officer", "leadership", "admin", "vetting"])
def test_only_auditors_read_the_checkpoint(app, user_factory, api_login, role):
    user_id, _ = user_factory(roles=(role,), missions=("MINUSCA",))
    client = app.test_client()
    api_login(client, user_id)
    assert client.get("/api/v1/audit/checkpoint").status_code == 403


def test_sixteen_writers_lose_no_event_and_seal_none_twice(app):
    """Writers record events and seal after each commit, as requests do, all at once."""
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(number: int) -> None:
        from conduct.audit import record

        try:
            with app.app_context():
                start.wait()
                for index in range(EVENTS_EACH):
                    with unit_of_work():
                        record("test.write", object_type="writer", object_id=f"{number}-{index}")
                    with db.engine.begin() as connection:
                        sealer.seal(connection, wait=False, thorough=False)
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        seal_now()
        events = _count(AuditEvent)
        assert events == WRITERS * EVENTS_EACH
        assert _count(AuditLeaf) == events == _latest_size()
        distinct = db.session.scalar(select(func.count(func.distinct(AuditLeaf.event_id))))
        assert distinct == events
        report = verify()
        assert report.ok and report.tree_size == events and report.unsealed == 0

"""Verifying with helper processes: each recomputes a piece of the leaves, and the report is
exactly the one a single process gives, down to the first bad index and its message."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import select, text

from conduct.audit import leafcheck
from conduct.audit.logformat import encode_event, leaf_hash
from conduct.audit.models import AuditEvent, AuditLeaf
from conduct.core.db import db, unit_of_work
from tests.audit.support import (
    add_events,
    as_administrator,
    current_leaf_hash,
    event_at,
    scalar,
    seal_now,
    verify,
)

PROCESSES = 3


@pytest.fixture
def rounds(monkeypatch):
    """Helpers even for a log of a few leaves: pieces of 2 leaves or more, at most 5 leaves per
    process and round (so 24 leaves take two rounds). Records each round's pieces."""
    monkeypatch.setattr(leafcheck, "PARALLEL_MINIMUM", 4)
    monkeypatch.setattr(leafcheck, "LEAVES_PER_PROCESS", 5)
    seen = []
    real_round = leafcheck._round

    def recorded(connection, snapshot, pieces, *args):
        seen.append(pieces)
        return (yield from real_round(connection, snapshot, pieces, *args))

    monkeypatch.setattr(leafcheck, "_round", recorded)
    return seen


@pytest.fixture
def sealed_log(work, rounds):
    """24 events in checkpoints of 10, 18 and 24 leaves."""
    for count in (10, 8, 6):
        add_events(count)
        seal_now()


def _same_report_both_ways(rounds, caplog, trusted_note=None):
    """The report with helper processes, after checking it equals the single-process one."""
    single = verify(trusted_note, processes=1)
    rounds.clear()
    with caplog.at_level(logging.WARNING, logger="conduct.audit.leafcheck"):
        shared = verify(trusted_note, processes=PROCESSES)
    assert any(len(pieces) > 1 for pieces in rounds), "no helper process was used"
    assert "helper process failed" not in caplog.text
    assert shared == single
    return shared


def _failed_at(rounds, caplog, index: int, *words: str, trusted_note=None):
    report = _same_report_both_ways(rounds, caplog, trusted_note)
    assert report.problem is not None, "the change went unnoticed"
    assert report.problem.index == index, report.problem
    for word in words:
        assert word in report.problem.message, report.problem


def test_the_leaves_are_cut_into_consecutive_pieces_and_rounds(sealed_log, rounds, caplog):
    report = _same_report_both_ways(rounds, caplog)
    assert report.ok and (report.tree_size, report.checkpoints_checked) == (24, 3)
    assert rounds == [[(0, 5), (5, 10), (10, 15)], [(15, 18), (18, 21), (21, 24)]]


def test_an_edit_in_the_last_piece_of_the_second_round_is_named(sealed_log, rounds, caplog):
    as_administrator("UPDATE audit_events SET fields = 'narrative' WHERE id = :id", id=event_at(22))
    _failed_at(rounds, caplog, 22, "leaf 22", "changed")


def test_of_two_edits_in_different_pieces_the_first_is_named(sealed_log, rounds, caplog):
    for index in (19, 7):
        as_administrator("UPDATE audit_events SET outcome = 'x' WHERE id = :id", id=event_at(index))
    _failed_at(rounds, caplog, 7, "leaf 7")


def test_an_edit_in_a_helper_piece_is_named(sealed_log, rounds, caplog):
    as_administrator("DELETE FROM audit_events WHERE id = :id", id=event_at(16))
    _failed_at(rounds, caplog, 16, "leaf 16", "missing")


def test_a_leaf_missing_at_the_end_of_a_piece_names_the_next_one(sealed_log, rounds, caplog):
    as_administrator(
        "DELETE FROM audit_events WHERE id = :id",
        "DELETE FROM audit_leaves WHERE leaf_index = 9",
        id=event_at(9),
    )
    _failed_at(rounds, caplog, 9, "leaf 9 is missing (the next is 10)")


def test_a_forged_leaf_hash_in_the_second_half_is_caught_by_its_signed_root(
    sealed_log, rounds, caplog
):
    event_id = event_at(16)
    as_administrator("UPDATE audit_events SET action = 'case.list' WHERE id = :id", id=event_id)
    as_administrator(
        "UPDATE audit_leaves SET leaf_hash = :h WHERE leaf_index = 16",
        h=current_leaf_hash(event_id),
    )
    _failed_at(rounds, caplog, 10, "checkpoint 18", "leaves 10 to 17")


def test_a_cut_log_is_caught_where_it_was_cut(sealed_log, rounds, caplog):
    as_administrator(
        "DELETE FROM audit_events WHERE id IN "
        "(SELECT event_id FROM audit_leaves WHERE leaf_index >= 13)",
        "DELETE FROM audit_leaves WHERE leaf_index >= 13",
    )
    _failed_at(rounds, caplog, 13, "leaf 13 is missing")


def test_from_a_trusted_checkpoint_the_later_leaves_are_shared_out(sealed_log, rounds, caplog):
    trusted = scalar("SELECT note FROM audit_checkpoints WHERE tree_size = 10")
    report = _same_report_both_ways(rounds, caplog, trusted)
    assert report.ok and (report.started_at, report.tree_size) == (10, 24)
    assert rounds == [[(10, 14), (14, 19), (19, 24)]]
    as_administrator("UPDATE audit_events SET fields = 'x' WHERE id = :id", id=event_at(20))
    _failed_at(rounds, caplog, 20, "leaf 20", trusted_note=trusted)


def test_a_failed_helper_leaves_its_piece_to_this_process(sealed_log, rounds, caplog, monkeypatch):
    as_administrator("UPDATE audit_events SET fields = 'x' WHERE id = :id", id=event_at(3))

    def no_connection(*args, **kwargs):
        raise OSError("no connection for helpers")

    monkeypatch.setattr(leafcheck, "create_engine", no_connection)
    with caplog.at_level(logging.WARNING, logger="conduct.audit.leafcheck"):
        report = verify(processes=PROCESSES)
    assert report.problem is not None and report.problem.index == 3
    assert "helper process failed (OSError)" in caplog.text
    assert "no connection" not in caplog.text  # the kind of error, never its text


def test_a_short_log_is_verified_in_one_process(work, rounds, monkeypatch):
    monkeypatch.setattr(leafcheck, "PARALLEL_MINIMUM", 100)
    add_events(6)
    seal_now()
    report = verify(processes=PROCESSES)
    assert report.ok and report.tree_size == 6
    assert rounds == []


def test_on_postgresql_helpers_read_the_snapshot_of_the_verify(sealed_log, rounds, monkeypatch):
    """An edit committed after the verify began is not seen by its helpers either."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite connections cannot share a snapshot")
    edit = text("UPDATE audit_events SET fields = 'x' WHERE id = :id")
    event_id = event_at(3)
    as_administrator()  # the triggers go first: dropping one waits for the verify to end
    real_export = leafcheck._export_snapshot

    def export_then_edit(connection):
        snapshot_id = real_export(connection)
        with db.engine.begin() as other:
            other.execute(edit, {"id": event_id})
        return snapshot_id

    monkeypatch.setattr(leafcheck, "_export_snapshot", export_then_edit)
    assert verify(processes=PROCESSES).ok
    assert any(len(pieces) > 1 for pieces in rounds)
    assert verify(processes=1).problem.index == 3  # a later snapshot sees it


def test_the_command_shares_the_leaves_out_as_asked(sealed_log, rounds, app):
    as_administrator("DELETE FROM audit_events WHERE id = :id", id=event_at(17))
    db.session.remove()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify", "--processes", "3"])
    assert result.exit_code == 1
    assert "first bad leaf index 17" in result.stderr
    assert [len(pieces) for pieces in rounds] == [3, 3]
    rounds.clear()
    result = runner.invoke(args=["audit", "verify", "--processes", "1"])
    assert "first bad leaf index 17" in result.stderr and rounds == []
    assert runner.invoke(args=["audit", "verify", "--processes", "0"]).exit_code == 2


def test_awkward_values_are_read_back_exactly_as_they_were_sealed(work, rounds):
    """Every text column holding unicode, quotes, backslashes, control characters, DEL (and on
    SQLite a NUL) is hashed by the verify's driver rows, in one process or several, exactly as
    the sealer hashed it: the canonical encoding of the stored values."""
    values = ["caf\u00e9", "line\u2028sep", "smile \U0001f600", 'say "hi"', "back\\slash",
              "bell\x07", "del\x7f", "tab\tnew\nline", ""]  # fmt: skip
    if db.engine.dialect.name == "sqlite":
        values.append("nul\x00byte")  # PostgreSQL text cannot hold one
    text_columns = ("action", "outcome", "actor_roles", "object_type", "object_id",
                    "case_reference", "fields", "request_id", "client_address")  # fmt: skip
    with unit_of_work() as session:
        for value in values * 2:
            columns = dict.fromkeys(text_columns, value)
            session.add(AuditEvent(actor_id=uuid.uuid4(), case_id=uuid.uuid4(), **columns))
    seal_now()
    events = db.session.scalars(select(AuditEvent)).all()
    stored = dict(db.session.execute(select(AuditLeaf.event_id, AuditLeaf.leaf_hash)).all())
    assert len(stored) == len(events) == 2 * len(values)
    for event in events:
        encoding = encode_event({c.key: getattr(event, c.key) for c in AuditEvent.__table__.c})
        assert bytes(stored[event.id]) == leaf_hash(encoding)
    assert verify(processes=1).ok
    assert verify(processes=PROCESSES).ok and any(len(pieces) > 1 for pieces in rounds)

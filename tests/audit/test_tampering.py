"""A database owner drops the triggers and edits, deletes, inserts, reorders or truncates the
log directly in the database: `verify` catches each change and names the first bad leaf."""

from __future__ import annotations

import pytest
from click.testing import Result

from conduct.audit.models import AuditEvent
from conduct.core.db import db
from tests.audit.support import (
    add_events,
    as_administrator,
    current_leaf_hash,
    event_at,
    scalar,
    seal_now,
    sealed_one_by_one,
    verify,
)

SHIFT = 1_000_000


def _failed_at(index: int, *words: str):
    report = verify()
    assert report.problem is not None, "the change went unnoticed"
    assert report.problem.index == index, report.problem
    for word in words:
        assert word in report.problem.message, report.problem
    return report


@pytest.fixture
def sealed_log(work):
    """Eight events in one checkpoint, then four more in a second one (12 leaves)."""
    add_events(8)
    seal_now()
    add_events(4)
    seal_now()
    assert verify().ok


def test_an_untouched_log_verifies(sealed_log):
    report = verify()
    assert (report.tree_size, report.checkpoints_checked, report.unsealed) == (12, 2, 0)


def test_editing_an_event_is_caught_at_its_index(sealed_log):
    as_administrator("UPDATE audit_events SET fields = 'narrative' WHERE id = :id", id=event_at(5))
    _failed_at(5, "leaf 5", "changed")


def test_editing_only_the_time_of_an_event_is_caught(sealed_log):
    as_administrator(
        "UPDATE audit_events SET occurred_at = (SELECT occurred_at FROM audit_events WHERE "
        "id = :other) WHERE id = :id",
        id=event_at(9),
        other=event_at(0),
    )
    _failed_at(9, "leaf 9")


def test_editing_an_event_and_forging_its_leaf_hash_is_caught_by_the_signed_root(sealed_log):
    event_id = event_at(10)
    as_administrator("UPDATE audit_events SET action = 'case.list' WHERE id = :id", id=event_id)
    as_administrator(
        "UPDATE audit_leaves SET leaf_hash = :h WHERE leaf_index = 10",
        h=current_leaf_hash(event_id),
    )
    # Only the signed roots can tell: the first leaf after the last checkpoint that matches.
    _failed_at(8, "checkpoint 12", "leaves 8 to 11")


def test_with_a_checkpoint_per_event_a_forged_edit_is_caught_at_its_index(work):
    sealed_one_by_one(6)
    event_id = event_at(3)
    as_administrator("UPDATE audit_events SET outcome = 'denied' WHERE id = :id", id=event_id)
    as_administrator(
        "UPDATE audit_leaves SET leaf_hash = :h WHERE leaf_index = 3",
        h=current_leaf_hash(event_id),
    )
    _failed_at(3, "checkpoint 4")


def test_deleting_an_event_is_caught_at_its_index(sealed_log):
    as_administrator("DELETE FROM audit_events WHERE id = :id", id=event_at(2))
    _failed_at(2, "leaf 2", "missing")


def test_deleting_an_event_and_its_leaf_is_caught_at_its_index(sealed_log):
    event_id = event_at(6)
    as_administrator(
        "DELETE FROM audit_events WHERE id = :id",
        "DELETE FROM audit_leaves WHERE leaf_index = 6",
        id=event_id,
    )
    _failed_at(6, "leaf 6 is missing")


def test_deleting_an_event_and_renumbering_the_leaves_is_caught(work):
    sealed_one_by_one(5)
    as_administrator(
        "DELETE FROM audit_events WHERE id = :id",
        "DELETE FROM audit_leaves WHERE leaf_index = 1",
        f"UPDATE audit_leaves SET leaf_index = leaf_index + {SHIFT} WHERE leaf_index > 1",
        f"UPDATE audit_leaves SET leaf_index = leaf_index - {SHIFT + 1} WHERE leaf_index > {SHIFT}",
        id=event_at(1),
    )
    _failed_at(1, "checkpoint 2")


def test_inserting_an_event_into_the_sealed_sequence_is_caught(work):
    sealed_one_by_one(5)
    as_administrator(
        "INSERT INTO audit_events (id, occurred_at, action, outcome, fields) "
        "SELECT 999, occurred_at, 'case.read', 'success', '' FROM audit_events WHERE id = :id",
        f"UPDATE audit_leaves SET leaf_index = leaf_index + {SHIFT} WHERE leaf_index >= 2",
        f"UPDATE audit_leaves SET leaf_index = leaf_index - {SHIFT - 1} "
        f"WHERE leaf_index >= {SHIFT}",
        id=event_at(0),
    )
    as_administrator(
        "INSERT INTO audit_leaves (leaf_index, event_id, leaf_hash) VALUES (2, 999, :h)",
        h=current_leaf_hash(999),
    )
    _failed_at(2, "checkpoint 3")


def test_appending_a_leaf_without_a_checkpoint_is_caught(sealed_log):
    add_events(1)
    event_id = scalar("SELECT max(id) FROM audit_events")
    as_administrator(
        "INSERT INTO audit_leaves (leaf_index, event_id, leaf_hash) VALUES (12, :id, :h)",
        id=event_id,
        h=current_leaf_hash(event_id),
    )
    _failed_at(12, "without a signed checkpoint")


def test_an_inserted_event_without_a_leaf_is_listed_as_not_sealed_yet(sealed_log):
    add_events(2)
    report = verify()
    assert report.ok and report.unsealed == 2 and len(report.unsealed_ids) == 2


def test_swapping_the_events_of_two_leaves_is_caught_at_the_first(sealed_log):
    first, second = event_at(3), event_at(7)
    as_administrator(
        "UPDATE audit_leaves SET event_id = -1 WHERE leaf_index = 3",
        "UPDATE audit_leaves SET event_id = :first WHERE leaf_index = 7",
        "UPDATE audit_leaves SET event_id = :second WHERE leaf_index = 3",
        first=first,
        second=second,
    )
    _failed_at(3, "leaf 3", "changed")


def test_swapping_two_whole_leaves_is_caught_by_the_signed_roots(work):
    sealed_one_by_one(6)
    as_administrator(
        f"UPDATE audit_leaves SET leaf_index = {SHIFT} WHERE leaf_index = 2",
        "UPDATE audit_leaves SET leaf_index = 2 WHERE leaf_index = 4",
        f"UPDATE audit_leaves SET leaf_index = 4 WHERE leaf_index = {SHIFT}",
    )
    _failed_at(2, "checkpoint 3")


def test_swapping_the_contents_of_two_events_is_caught(sealed_log):
    first, second = event_at(1), event_at(4)
    values = {
        event_id: scalar("SELECT object_id FROM audit_events WHERE id = :id", id=event_id)
        for event_id in (first, second)
    }
    as_administrator(
        "UPDATE audit_events SET object_id = :value WHERE id = :id", id=first, value=values[second]
    )
    as_administrator(
        "UPDATE audit_events SET object_id = :value WHERE id = :id", id=second, value=values[first]
    )
    _failed_at(1, "leaf 1")


def test_truncating_the_log_is_caught_where_it_was_cut(sealed_log):
    as_administrator(
        "DELETE FROM audit_events WHERE id IN "
        "(SELECT event_id FROM audit_leaves WHERE leaf_index >= 9)",
        "DELETE FROM audit_leaves WHERE leaf_index >= 9",
    )
    _failed_at(9, "leaf 9 is missing")


def test_truncating_log_and_checkpoints_is_caught_from_a_trusted_checkpoint(sealed_log):
    trusted = scalar("SELECT note FROM audit_checkpoints WHERE tree_size = 12")
    as_administrator(
        "DELETE FROM audit_events WHERE id IN "
        "(SELECT event_id FROM audit_leaves WHERE leaf_index >= 8)",
        "DELETE FROM audit_leaves WHERE leaf_index >= 8",
        "DELETE FROM audit_checkpoints WHERE tree_size = 12",
    )
    assert verify().ok  # what is left is a consistent, shorter log ...
    report = verify(trusted)  # ... but not the one the auditor saw
    assert report.problem is not None and report.problem.index == 8
    assert "leaf 8 is missing" in report.problem.message


def test_from_a_trusted_checkpoint_only_later_leaves_are_recomputed(sealed_log):
    trusted = scalar("SELECT note FROM audit_checkpoints WHERE tree_size = 8")
    report = verify(trusted)
    assert report.ok and (report.started_at, report.tree_size) == (8, 12)
    add_events(2)
    report = verify(trusted)
    assert report.ok and report.unsealed == 2 and len(report.unsealed_ids) == 2
    as_administrator("UPDATE audit_events SET fields = 'x' WHERE id = :id", id=event_at(10))
    report = verify(trusted)
    assert report.problem is not None and report.problem.index == 10


def test_a_trusted_checkpoint_the_stored_tree_no_longer_gives_is_caught(sealed_log):
    """A forged past (events, leaf hashes and frontier all rewritten) cannot produce the
    trusted root: the check falls back to every leaf and names where the trust ends."""
    trusted = scalar("SELECT note FROM audit_checkpoints WHERE tree_size = 8")
    event_id = event_at(4)
    as_administrator("UPDATE audit_events SET outcome = 'failed' WHERE id = :id", id=event_id)
    as_administrator(
        "UPDATE audit_leaves SET leaf_hash = :h WHERE leaf_index = 4",
        "UPDATE audit_checkpoints SET frontier = :f WHERE tree_size = 8",
        h=current_leaf_hash(event_id),
        f=b"\x00" * 32,
    )
    report = verify(trusted)
    assert report.problem is not None and report.problem.index == 0
    assert "checkpoint" in report.problem.message
    assert report.notes and "every leaf is checked" in report.notes[0]


def test_a_checkpoint_from_another_key_is_not_trusted(sealed_log):
    from conduct.audit.verify import TrustedCheckpointError

    note = scalar("SELECT note FROM audit_checkpoints WHERE tree_size = 8")
    body, _, signature = note.partition("\n\n")
    name, _, blob = signature.strip().rpartition(" ")
    forged = f"{body}\n\n{name} {blob[:-8]}AAAAAAA=\n"
    with pytest.raises(TrustedCheckpointError, match="not one of this log"):
        verify(forged)


def test_forging_a_checkpoint_note_is_caught(sealed_log):
    note = scalar("SELECT note FROM audit_checkpoints WHERE tree_size = 12")
    forged = note.replace("\n12\n", "\n11\n", 1)
    as_administrator("UPDATE audit_checkpoints SET note = :note WHERE tree_size = 12", note=forged)
    _failed_at(8, "checkpoint 12")


def test_the_command_names_the_first_bad_index_and_fails(sealed_log, app):
    as_administrator("DELETE FROM audit_events WHERE id = :id", id=event_at(3))
    db.session.remove()
    result: Result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "first bad leaf index 3" in result.stderr
    assert result.stdout == ""


def test_every_audit_table_refuses_update_and_delete(sealed_log):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    statements = [
        "UPDATE audit_events SET action = 'x'",
        "DELETE FROM audit_events",
        "UPDATE audit_leaves SET leaf_hash = leaf_hash",
        "DELETE FROM audit_leaves",
        "UPDATE audit_checkpoints SET note = note",
        "DELETE FROM audit_checkpoints",
    ]
    if db.engine.dialect.name == "postgresql":
        statements += [
            f"TRUNCATE {t}" for t in ("audit_events", "audit_leaves", "audit_checkpoints")
        ]
    db.session.rollback()
    for statement in statements:
        with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text(statement))
    assert verify().ok
    assert scalar("SELECT count(*) FROM audit_events") == 12
    assert AuditEvent.__tablename__ == "audit_events"

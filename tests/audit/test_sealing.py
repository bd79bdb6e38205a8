"""Sealing: leaves in the sealer's order, signed checkpoints, a tree extended from its frontier."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conduct.audit.checkpoints import log_origin
from conduct.audit.logformat import (
    Checkpoint,
    encode_event,
    inclusion_proof,
    is_included,
    key_id,
    leaf_hash,
    parse_note,
    tree_root,
)
from conduct.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf
from conduct.audit.sealer import LATE_EVENT_HORIZON, SealError
from conduct.core.db import db, utcnow
from conduct.crypto.audit_signing import audit_public_key, is_valid_checkpoint_signature
from tests.audit.support import (
    add_event_with_id,
    add_events,
    as_administrator,
    seal_now,
    verify,
)


def _leaf_hashes() -> list[bytes]:
    return [
        bytes(h) for h in db.session.scalars(select(AuditLeaf.leaf_hash).order_by("leaf_index"))
    ]


def test_a_seal_gives_every_event_a_leaf_and_signs_the_tree(work):
    add_events(5)
    result = seal_now()
    assert (result.tree_size, result.sealed) == (5, 5)

    note = parse_note(result.note)
    origin = log_origin()
    assert note.checkpoint == Checkpoint(origin, 5, tree_root(_leaf_hashes()))
    assert note.body == f"{origin}\n5\n".encode() + note.body.split(b"\n")[2] + b"\n"
    signature = note.signature_by(origin, key_id(origin, audit_public_key()))
    assert is_valid_checkpoint_signature(audit_public_key(), note.body, signature)
    assert result.note.split("\n")[4].startswith("\u2014 " + origin + " ")
    assert not is_valid_checkpoint_signature(audit_public_key(), note.body + b"x", signature)


def test_each_leaf_hash_is_the_canonical_encoding_of_its_event(work):
    add_events(3)
    seal_now()
    events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    leaves = db.session.execute(select(AuditLeaf).order_by(AuditLeaf.leaf_index)).scalars().all()
    assert [leaf.event_id for leaf in leaves] == [event.id for event in events]
    encoding = encode_event({c.key: getattr(events[0], c.key) for c in AuditEvent.__table__.c})
    assert encoding.startswith(b'{"action":"test.event","actor_id":null,')
    assert b'"occurred_at":"20' in encoding and encoding.count(b'Z"') == 1
    assert leaves[0].leaf_hash == leaf_hash(encoding)


def test_later_seals_extend_the_tree_and_only_new_events_get_leaves(work):
    add_events(3)
    seal_now()
    assert seal_now().sealed == 0
    add_events(4)
    result = seal_now()
    assert (result.tree_size, result.sealed) == (7, 4)
    sizes = db.session.scalars(select(AuditCheckpoint.tree_size).order_by("tree_size")).all()
    assert sizes == [3, 7]
    hashes = _leaf_hashes()
    assert parse_note(result.note).checkpoint.root == tree_root(hashes)
    root = tree_root(hashes)
    for index in range(7):
        assert is_included(hashes[index], index, 7, inclusion_proof(hashes, index), root)


def test_an_event_committed_late_joins_the_next_checkpoint(work):
    """Ids are not commit order: an event whose id is below sealed ones is sealed next."""
    add_event_with_id(10)
    add_event_with_id(11)
    seal_now(thorough=False)
    add_event_with_id(7)
    assert seal_now(thorough=False).sealed == 1
    order = db.session.scalars(select(AuditLeaf.event_id).order_by(AuditLeaf.leaf_index)).all()
    assert order == [10, 11, 7]
    assert verify().ok


def test_after_requests_the_search_starts_above_ids_sealed_long_ago(work):
    """Ids sealed before the horizon bound the search after requests; a thorough seal (the
    command) still looks at every event."""
    add_event_with_id(10)
    seal_now()
    long_ago = utcnow() - LATE_EVENT_HORIZON - timedelta(minutes=1)
    as_administrator("UPDATE audit_checkpoints SET created_at = :at", at=long_ago)
    add_event_with_id(20)
    seal_now(thorough=False)
    add_event_with_id(5)  # an id taken before the first checkpoint: impossible in service
    assert seal_now(thorough=False).sealed == 0
    assert seal_now(thorough=True).sealed == 1


def test_the_sealer_refuses_to_extend_a_tree_whose_frontier_was_changed(work):
    add_events(3)
    seal_now()
    as_administrator("UPDATE audit_checkpoints SET frontier = :f", f=b"\x00" * 64)
    add_events(1)
    with pytest.raises(SealError, match="frontier of checkpoint 3"):
        seal_now()

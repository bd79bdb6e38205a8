"""The log's formats against RFC 6962's definition and its published test vectors."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from conduct.audit.logformat import (
    EMPTY_ROOT,
    EVENT_COLUMNS,
    Checkpoint,
    Frontier,
    NoteError,
    canonical_event,
    canonical_time,
    encode_event,
    inclusion_proof,
    is_included,
    key_id,
    leaf_hash,
    node_hash,
    parse_note,
    perfect_subtrees,
    signed_note,
    tree_root,
)

# The leaves and roots of the certificate-transparency project's Merkle tree test vectors.
VECTOR_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                 "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
VECTOR_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 section 2.1, recursively."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return node_hash(rfc6962_root(leaves[:split]), rfc6962_root(leaves[split:]))


def test_roots_match_the_published_vectors():
    hashes = [leaf_hash(bytes.fromhex(leaf)) for leaf in VECTOR_LEAVES]
    for size, expected in enumerate(VECTOR_ROOTS, 1):
        assert tree_root(hashes[:size]).hex() == expected
    assert tree_root([]) == hashlib.sha256(b"").digest()


def test_the_frontier_gives_the_rfc_root_and_survives_storage_at_every_size():
    hashes = [hashlib.sha256(n.to_bytes(4, "big")).digest() for n in range(70)]
    frontier = Frontier()
    for size in range(1, 71):
        frontier.append(hashes[size - 1])
        assert frontier.root() == rfc6962_root(hashes[:size])
        stored = Frontier.from_bytes(size, frontier.to_bytes())
        assert len(stored.hashes) == bin(size).count("1")
        frontier = stored


@pytest.mark.parametrize("start", [0, 1, 5, 8, 12, 31])
def test_extending_a_frontier_gives_the_tree_of_appending_one_by_one(start):
    hashes = [hashlib.sha256(n.to_bytes(4, "big")).digest() for n in range(start + 70)]
    for count in range(71):
        one_by_one, extended = Frontier(), Frontier()
        for digest in hashes[:start]:
            one_by_one.append(digest)
            extended.append(digest)
        for digest in hashes[start : start + count]:
            one_by_one.append(digest)
        extended.extend(hashes[start : start + count])
        assert (extended.size, extended.hashes) == (one_by_one.size, one_by_one.hashes)
        assert extended.root() == rfc6962_root(hashes[: start + count])


def test_leaves_folded_apart_from_the_rest_of_the_tree_give_the_same_tree():
    hashes = [hashlib.sha256(n.to_bytes(4, "big")).digest() for n in range(70)]
    for split in range(71):
        for end in range(split, 71):
            frontier = Frontier()
            frontier.extend(hashes[:split])
            frontier.add_subtrees(perfect_subtrees(split, hashes[split:end]))
            assert frontier.root() == rfc6962_root(hashes[:end])


def test_a_subtree_is_only_added_where_it_starts():
    frontier = Frontier()
    frontier.extend([leaf_hash(b"a")] * 3)
    with pytest.raises(ValueError, match="multiple of its width"):
        frontier.add_subtrees(perfect_subtrees(4, [leaf_hash(b"b")] * 4))


def test_every_inclusion_proof_checks_and_a_wrong_one_does_not():
    hashes = [hashlib.sha256(n.to_bytes(4, "big")).digest() for n in range(33)]
    for size in range(1, 34):
        root = rfc6962_root(hashes[:size])
        for index in range(size):
            proof = inclusion_proof(hashes[:size], index)
            assert is_included(hashes[index], index, size, proof, root)
            assert not is_included(hashes[(index + 1) % 33], index, size, proof, root)
            if proof:
                assert not is_included(hashes[index], index, size, proof[:-1], root)


def test_the_leaf_encoding_is_canonical_json_with_utc_times():
    event = {
        "id": 7,
        "action": "case.read",
        "outcome": "success",
        "actor_id": "0b7d5c1e8f2a4e61b3c95a4d2e1f0c98",
        "actor_roles": "officer",
        "case_id": None,
        "case_reference": None,
        "client_address": "10.0.0.1",
        "fields": "category,status",
        "object_id": "x",
        "object_type": "case",
        "request_id": None,
        "occurred_at": datetime(2026, 11, 28, 8, 30, tzinfo=timezone(timedelta(hours=2))),
    }
    encoded = encode_event(event)
    assert encoded == (
        b'{"action":"case.read","actor_id":"0b7d5c1e-8f2a-4e61-b3c9-5a4d2e1f0c98",'
        b'"actor_roles":"officer","case_id":null,"case_reference":null,'
        b'"client_address":"10.0.0.1","fields":"category,status","id":7,"object_id":"x",'
        b'"object_type":"case","occurred_at":"2026-11-28T06:30:00.000000Z",'
        b'"outcome":"success","request_id":null}'
    )
    assert canonical_time("2026-11-28 06:30:00.000000") == "2026-11-28T06:30:00.000000Z"
    assert canonical_time(datetime(2026, 11, 28, 6, 30, tzinfo=UTC)) == (
        "2026-11-28T06:30:00.000000Z"
    )


def test_a_signed_note_has_the_c2sp_layout_and_parses_back():
    checkpoint = Checkpoint("conduct.example.org/audit", 12, b"\x01" * 32)
    body = checkpoint.body()
    assert body == b"conduct.example.org/audit\n12\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"
    public_key, signature = b"\x02" * 32, b"\x03" * 64
    text = signed_note(body, checkpoint.origin, public_key, signature)
    assert text.startswith(body.decode() + "\n\u2014 conduct.example.org/audit ")
    note = parse_note(text)
    assert note.checkpoint == checkpoint and note.body == body
    kid = hashlib.sha256(b"conduct.example.org/audit\n\x01" + public_key).digest()[:4]
    assert key_id(checkpoint.origin, public_key) == kid
    assert note.signature_by(checkpoint.origin, kid) == signature


@pytest.mark.parametrize(
    "text",
    [
        "origin\n12\n",
        "origin\n012\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n\n\u2014 origin AAAA\n",
        "origin\n12\nnot-base64\n\n\u2014 origin AAAAAAAA\n",
        "origin\n12\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n\n- origin AAAAAAAA\n",
    ],
)
def test_malformed_notes_are_refused(text):
    with pytest.raises(NoteError):
        parse_note(text)


def test_the_fast_encoding_is_exactly_json_dumps_of_the_documented_object():
    """docs/audit.md defines the encoding as json.dumps with sorted keys and no spaces."""
    rng = random.Random(7)
    alphabet = 'az09_.:-"\\/\n\t\x00\x7féà€\U0001f600 '
    for _ in range(300):
        event = {
            name: "".join(rng.choices(alphabet, k=rng.randrange(12))) for name in EVENT_COLUMNS
        }
        event.update(
            id=rng.randrange(1, 10**12),
            actor_id=uuid.uuid4() if rng.random() < 0.5 else None,
            case_id=uuid.uuid4().hex if rng.random() < 0.5 else None,
            occurred_at=datetime(2026, 1, 1, tzinfo=UTC)
            + timedelta(microseconds=rng.getrandbits(40)),
            request_id=None,
        )
        documented = json.dumps(canonical_event(event), sort_keys=True, separators=(",", ":"))
        assert encode_event(event) == documented.encode("ascii")

"""The audit log's formats: leaf encoding, the RFC 6962 Merkle tree, and checkpoint notes.

This module needs only the Python standard library, on purpose: ``conduct audit export`` copies
it next to the standalone verifier, so an auditor checks the log with exactly this code and no
Conduct installation. Signatures are made and checked elsewhere (``conduct/crypto``, and the
verifier with ``cryptography``); here a note is only laid out and parsed.

- **Leaf**: an audit event encoded as canonical JSON (every column, keys sorted, no spaces,
  ASCII, ids as text, the time in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``); its leaf hash is
  ``SHA-256(0x00 || encoding)`` (RFC 6962 section 2.1).
- **Tree**: RFC 6962's Merkle tree, interior nodes ``SHA-256(0x01 || left || right)``. A
  :class:`Frontier` (the roots of the perfect subtrees that make up a tree of ``size`` leaves,
  largest first) is all that is needed to append leaves and compute the root.
- **Checkpoint**: the C2SP tlog-checkpoint body (origin, tree size, base64 root hash, each on
  its own line) in a signed note whose signature lines read ``— <name> <base64(key id ||
  signature)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
ED25519_ALGORITHM = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash and space, as the signed-note format has it

# The event's columns, in the (sorted) order of the canonical encoding.
EVENT_COLUMNS = (
    "action",
    "actor_id",
    "actor_roles",
    "case_id",
    "case_reference",
    "client_address",
    "fields",
    "id",
    "object_id",
    "object_type",
    "occurred_at",
    "outcome",
    "request_id",
)
_UUID_COLUMNS = frozenset({"actor_id", "case_id"})
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,18})$")
_SQLITE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")


# --- Leaves ---------------------------------------------------------------------------------


def canonical_time(value: datetime | str) -> str:
    """A moment as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC.

    Accepts a time-zone aware datetime, or text as SQLite stores it (UTC, no zone).
    """
    if isinstance(value, str):
        if _SQLITE_TIME.match(value):
            return f"{value[:10]}T{value[11:]}Z"
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_uuid(value: uuid.UUID | str | None) -> str | None:
    """A UUID as lower-case hyphenated text, whichever form the database returned (SQLite
    stores 32 hex digits, PostgreSQL returns UUID objects)."""
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    if len(value) == 32:
        value = value.lower()
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(uuid.UUID(value))


def canonical_event(values: dict) -> dict:
    """An event's columns as they are encoded: ids as text, the time in canonical form."""
    event = {name: values[name] for name in EVENT_COLUMNS}
    for name in _UUID_COLUMNS:
        event[name] = canonical_uuid(event[name])
    event["occurred_at"] = canonical_time(event["occurred_at"])
    return event


def encode_event(values: dict) -> bytes:
    """The canonical encoding of one event: JSON, keys sorted, no spaces, ASCII."""
    event = canonical_event(values)
    return encode_canonical_row(tuple(event[name] for name in EVENT_COLUMNS))


# json.dumps(..., ensure_ascii=True) writes strings with this function and integers with
# int.__repr__; calling them directly for the fixed, sorted keys gives the same bytes as
# json.dumps(event, sort_keys=True, separators=(",", ":")) several times faster.
_string = json.encoder.encode_basestring_ascii
_integer = int.__repr__


def encode_canonical_row(row) -> bytes:
    """:func:`encode_event` for a row in :data:`EVENT_COLUMNS` order whose ids and time are
    canonical text already (the database queries of the sealer and verifier make them so).

    Written out by hand because it runs once per event on every verify.
    """
    (
        action,
        actor_id,
        actor_roles,
        case_id,
        case_reference,
        client_address,
        fields,
        event_id,
        object_id,
        object_type,
        occurred_at,
        outcome,
        request_id,
    ) = row
    string = _string
    return (
        f'{{"action":{"null" if action is None else string(action)},'
        f'"actor_id":{"null" if actor_id is None else string(actor_id)},'
        f'"actor_roles":{"null" if actor_roles is None else string(actor_roles)},'
        f'"case_id":{"null" if case_id is None else string(case_id)},'
        f'"case_reference":{"null" if case_reference is None else string(case_reference)},'
        f'"client_address":{"null" if client_address is None else string(client_address)},'
        f'"fields":{"null" if fields is None else string(fields)},'
        f'"id":{_integer(event_id)},'
        f'"object_id":{"null" if object_id is None else string(object_id)},'
        f'"object_type":{"null" if object_type is None else string(object_type)},'
        f'"occurred_at":{string(occurred_at)},'
        f'"outcome":{"null" if outcome is None else string(outcome)},'
        f'"request_id":{"null" if request_id is None else string(request_id)}}}'
    ).encode("ascii")


def leaf_hash(encoding: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + encoding).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


# --- The tree -------------------------------------------------------------------------------


class Frontier:
    """The right frontier of a tree: perfect-subtree roots, largest first, one per set bit of
    the tree size. Appending a leaf costs O(1) hashes on average; the root O(log size)."""

    __slots__ = ("size", "hashes")

    def __init__(self, size: int = 0, hashes: list[bytes] | None = None):
        hashes = list(hashes or [])
        if len(hashes) != size.bit_count() or any(len(h) != HASH_SIZE for h in hashes):
            raise ValueError("a frontier holds one 32-byte hash per set bit of its size")
        self.size = size
        self.hashes = hashes

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        hashes = [bytes(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]
        return cls(size, hashes)

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    def append(self, leaf: bytes) -> None:
        self._push(leaf, 1)

    def extend(self, leaves: list[bytes]) -> None:
        """Append ``leaves`` in order: the same tree as appending them one by one, quicker
        (see :func:`perfect_subtrees`)."""
        self.add_subtrees(perfect_subtrees(self.size, leaves))

    def add_subtrees(self, subtrees: list[tuple[int, bytes]]) -> None:
        """Append the leaves that :func:`perfect_subtrees` folded, from this size on."""
        for width, root in subtrees:
            if self.size % width:
                raise ValueError("a perfect subtree starts at a multiple of its width")
            self._push(root, width)

    def _push(self, subtree_root: bytes, width: int) -> None:
        """Append a perfect subtree of ``width`` leaves (a power of two the size is a multiple
        of): merge it with the subtrees of equal width on the right edge."""
        hashes = self.hashes
        hashes.append(subtree_root)
        merges = self.size // width
        while merges & 1:
            right = hashes.pop()
            hashes[-1] = hashlib.sha256(b"\x01" + hashes[-1] + right).digest()
            merges >>= 1
        self.size += width

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            root = node_hash(left, root)
        return root


def perfect_subtrees(start: int, leaves: list[bytes]) -> list[tuple[int, bytes]]:
    """``leaves``, standing at index ``start`` onwards in a tree, folded into the largest
    perfect subtrees they make up, left to right: ``(width, root)`` each.

    A subtree of 2**k leaves starts at a multiple of 2**k, so the fold depends only on where the
    leaves stand, not on the leaves before them: a range of leaves can be folded apart from the
    rest of the tree, and the roots are hashed level by level, a list at a time, instead of
    leaf by leaf.
    """
    subtrees, position, count = [], 0, len(leaves)
    while position < count:
        width = 1 << (count - position).bit_length() - 1  # the largest that fits
        at = start + position
        if at:
            width = min(width, at & -at)  # and that starts at a multiple of its width
        subtrees.append((width, _perfect_root(leaves[position : position + width])))
        position += width
    return subtrees


def _perfect_root(level: list[bytes]) -> bytes:
    """The root of a perfect subtree (a power of two of leaves), one level at a time."""
    sha256 = hashlib.sha256
    while len(level) > 1:
        pairs = zip(level[0::2], level[1::2], strict=True)
        level = [sha256(b"\x01" + left + right).digest() for left, right in pairs]
    return level[0]


def tree_root(leaves: list[bytes]) -> bytes:
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaves first; an odd last node moves up unchanged (which is
    exactly RFC 6962's split at the largest power of two)."""
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])
        levels.append(above)
    return levels


def inclusion_proof(leaves: list[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``leaves`` (RFC 6962 section 2.1.1)."""
    if not 0 <= index < len(leaves):
        raise ValueError("the leaf index is outside the tree")
    proof = []
    for level in _levels(leaves)[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        index >>= 1
    return proof


def is_included(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """Check an inclusion proof (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, result = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == root


# --- Checkpoints and signed notes -----------------------------------------------------------


class NoteError(ValueError):
    """A checkpoint or signed note that does not follow the format."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> bytes:
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n".encode()


@dataclass(frozen=True)
class SignedNote:
    body: bytes
    checkpoint: Checkpoint
    signatures: tuple[tuple[str, bytes, bytes], ...]  # (name, key id, signature)

    def signature_by(self, name: str, key_id: bytes) -> bytes | None:
        for signer, signer_key_id, signature in self.signatures:
            if signer == name and signer_key_id == key_id:
                return signature
        return None


def key_id(name: str, public_key: bytes) -> bytes:
    """The signed-note key id: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || key)."""
    material = name.encode() + b"\n" + bytes([ED25519_ALGORITHM]) + public_key
    return hashlib.sha256(material).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The key in the signed-note verifier format: ``name+hex key id+base64(0x01 || key)``."""
    encoded = base64.b64encode(bytes([ED25519_ALGORITHM]) + public_key).decode("ascii")
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def signed_note(body: bytes, name: str, public_key: bytes, signature: bytes) -> str:
    """The note text: the body, an empty line, one signature line."""
    blob = base64.b64encode(key_id(name, public_key) + signature).decode("ascii")
    return body.decode() + "\n" + f"{SIGNATURE_PREFIX}{name} {blob}\n"


def parse_checkpoint(body: bytes) -> Checkpoint:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NoteError("the checkpoint is not UTF-8 text") from None
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not lines[0]:
        raise NoteError("a checkpoint has an origin, a size and a root hash, one per line")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not _DECIMAL.match(size_text):
        raise NoteError("the checkpoint's tree size is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("the checkpoint's root hash is not base64") from None
    if len(root) != HASH_SIZE:
        raise NoteError("the checkpoint's root hash is not 32 bytes")
    return Checkpoint(origin, int(size_text), root)


def parse_note(text: str) -> SignedNote:
    """Split a signed note into its checkpoint and signature lines."""
    body_text, separator, signature_text = text.partition("\n\n")
    if not separator or not signature_text.endswith("\n"):
        raise NoteError("a signed note is a body, an empty line and signature lines")
    body = (body_text + "\n").encode()
    signatures = []
    for line in signature_text[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("a signature line starts with an em dash and a space")
        name, _, blob = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError("a signature is not base64") from None
        if not name or len(raw) < 5:
            raise NoteError("a signature line names its key and carries key id and signature")
        signatures.append((name, raw[:4], raw[4:]))
    return SignedNote(body, parse_checkpoint(body), tuple(signatures))

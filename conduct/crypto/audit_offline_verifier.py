"""Verify an export of Conduct's audit log, offline: Python 3.11+ and `cryptography` only.

`conduct audit export DIR` copies this file to DIR/verify.py, next to logformat.py (the leaf
encoding, the RFC 6962 tree and the checkpoint format, standard library only). It is not
imported by the service; it lives in conduct/crypto because it checks signatures.

    python3 verify.py DIR [--public-key PEM] [--from CHECKPOINT] [--prove INDEX]

Checks: every line of events.jsonl is an event in canonical form (line i is leaf i); the tree
recomputed from them gives, at each checkpoint's size, the root that checkpoint signs; every
checkpoint's signature is valid for the public key and the origin; the leaves end where the
latest checkpoint ends; a trusted checkpoint (--from) is signed and its root is the export's
tree at its size. Exits 1 naming the first bad leaf index.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

sys.path.insert(0, str(Path(__file__).resolve().parent))  # logformat.py, next to this file

from logformat import (  # noqa: E402
    Frontier,
    NoteError,
    encode_event,
    inclusion_proof,
    is_included,
    key_id,
    leaf_hash,
    parse_note,
)


class Failure(Exception):
    """The export does not verify; ``index`` is the first bad leaf (None: not about a leaf)."""

    def __init__(self, message: str, index: int | None = None):
        super().__init__(message)
        self.index = index


def load_public_key(path: Path) -> bytes:
    key = load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise Failure(f"{path} is not an Ed25519 public key")
    return key.public_bytes_raw()


def check_note(text: str, public_key: bytes, origin: str | None, what: str):
    """The checkpoint of a signed note after checking its signature; Failure otherwise."""
    try:
        note = parse_note(text)
    except NoteError as error:
        raise Failure(f"{what}: {error}") from None
    name = note.checkpoint.origin
    if origin is not None and name != origin:
        raise Failure(f"{what}: its origin is {name!r}, not {origin!r}")
    signature = note.signature_by(name, key_id(name, public_key))
    if signature is None:
        raise Failure(f"{what}: no signature by the public key")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, note.body)
    except InvalidSignature:
        raise Failure(f"{what}: the signature is not valid") from None
    return note.checkpoint


def read_checkpoints(directory: Path, public_key: bytes, origin: str | None) -> list:
    checkpoints = []
    with (directory / "checkpoints.jsonl").open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            entry = json.loads(line)
            what = f"checkpoint {entry.get('tree_size')} (line {number} of checkpoints.jsonl)"
            checkpoint = check_note(entry["note"], public_key, origin, what)
            if checkpoint.size != entry["tree_size"]:
                raise Failure(f"{what}: its note says size {checkpoint.size}")
            if checkpoints and checkpoint.size <= checkpoints[-1].size:
                raise Failure(f"{what}: checkpoints are not in increasing size")
            origin = checkpoint.origin
            checkpoints.append(checkpoint)
    return checkpoints


def leaf_hashes(directory: Path):
    """Each line's leaf hash, after checking the line is an event in canonical form."""
    with (directory / "events.jsonl").open("rb") as handle:
        for index, line in enumerate(handle):
            encoding = line.rstrip(b"\n")
            try:
                canonical = encode_event(json.loads(encoding))
            except (ValueError, TypeError, KeyError, AttributeError):
                raise Failure(f"leaf {index}: line {index + 1} is not an event", index) from None
            if canonical != encoding:
                raise Failure(f"leaf {index}: line {index + 1} is not in canonical form", index)
            yield leaf_hash(encoding)


def verify(directory: Path, public_key: bytes, trusted_text: str | None, keep: list | None):
    """Recompute the tree and check it against every checkpoint; the latest checkpoint."""
    checkpoints = read_checkpoints(directory, public_key, None)
    origin = checkpoints[0].origin if checkpoints else None
    roots = [(c.size, c.root, f"checkpoint {c.size}") for c in checkpoints]
    if trusted_text is not None:
        trusted = check_note(trusted_text, public_key, origin, "the trusted checkpoint")
        roots = sorted([*roots, (trusted.size, trusted.root, "the trusted checkpoint")])
    frontier, position, last_good = Frontier(), 0, 0
    for digest in leaf_hashes(directory):
        if keep is not None:
            keep.append(digest)
        frontier.append(digest)
        while position < len(roots) and roots[position][0] == frontier.size:
            size, root, source = roots[position]
            if frontier.root() != root:
                raise Failure(
                    f"{source} signs a root that leaves {last_good} to {size - 1} do not give",
                    last_good,
                )
            last_good, position = size, position + 1
    covered = roots[-1][0] if roots else 0
    if frontier.size < covered:
        raise Failure(
            f"leaf {frontier.size} is missing: checkpoints cover {covered}", frontier.size
        )
    if frontier.size > covered:
        raise Failure(f"leaf {covered} is not covered by any signed checkpoint", covered)
    return checkpoints[-1] if checkpoints else None, frontier.size


def prove(index: int, hashes: list[bytes], latest) -> None:
    """Print and check the inclusion proof of leaf ``index`` in the latest checkpoint."""
    if latest is None or not 0 <= index < latest.size:
        raise Failure(f"leaf {index} is not in the latest checkpoint")
    path = inclusion_proof(hashes[: latest.size], index)
    print(f"leaf {index} of {latest.size}: line {index + 1} of events.jsonl")
    print(f"leaf hash {base64.b64encode(hashes[index]).decode()}")
    node, size = index, latest.size - 1
    for step, sibling in enumerate(path):
        side = "left" if node & 1 or node == size else "right"
        if side == "left":
            while not node & 1 and node != 0:
                node, size = node >> 1, size >> 1
        print(f"path {step} {side} {base64.b64encode(sibling).decode()}")
        node, size = node >> 1, size >> 1
    print(f"root {base64.b64encode(latest.root).decode()}")
    if not is_included(hashes[index], index, latest.size, path, latest.root):
        raise Failure(f"leaf {index}: its inclusion proof does not give the root", index)
    print("inclusion proof verified")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify an export of Conduct's audit log.")
    parser.add_argument("directory", type=Path, nargs="?", default=Path(__file__).parent)
    parser.add_argument("--public-key", type=Path, help="the audit public key you trust (PEM)")
    parser.add_argument("--from", dest="trusted", type=Path, help="a checkpoint you kept")
    parser.add_argument("--prove", type=int, metavar="INDEX", help="inclusion proof of a leaf")
    args = parser.parse_args(argv)
    key_path = args.public_key or args.directory / "audit-public-key.pem"
    if args.public_key is None:
        print(f"note: using the key in the export ({key_path}); pin yours with --public-key")
    try:
        public_key = load_public_key(key_path)
        trusted = None if args.trusted is None else args.trusted.read_text(encoding="utf-8")
        hashes = [] if args.prove is not None else None
        latest, leaves = verify(args.directory, public_key, trusted, hashes)
        if args.prove is not None:
            prove(args.prove, hashes, latest)
    except Failure as failure:
        where = "" if failure.index is None else f"first bad leaf index {failure.index}: "
        print(f"audit log export does NOT verify: {where}{failure}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"cannot verify: {error}", file=sys.stderr)
        return 2
    origin = "none" if latest is None else latest.origin
    print(f"audit log export verified: {leaves} leaves, origin {origin}, all checkpoints match")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Exporting the audit log for offline verification: events, checkpoints, key, verifier.

The export holds what the database holds, as it is: a tampered log exports as tampered, and the
standalone verifier says where. Events are written in their canonical encoding, one line per
leaf, so the verifier hashes exactly the bytes an auditor reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Connection

from conduct.core.db import db
from conduct.crypto.audit_signing import audit_public_key, audit_public_key_pem

from . import logformat
from .checkpoints import latest_checkpoint, log_origin
from .events import record
from .leafcheck import ROWS_PER_FETCH
from .logformat import verifier_key
from .models import AuditCheckpoint
from .rows import leaves_with_events, row_encoder

README = """\
Conduct audit log export
========================

events.jsonl            one line per leaf of the Merkle tree, in leaf order (line i = leaf i)
checkpoints.jsonl       every signed checkpoint: {{"tree_size": n, "note": "..."}}
checkpoint.txt          the latest signed checkpoint ({size} leaves)
audit-public-key.pem    the audit-signing public key (Ed25519)
audit-verifier-key.txt  the same key as a signed-note verifier key
verify.py, logformat.py the verifier: needs Python 3.11+ and the `cryptography` package

    python3 -m venv v && v/bin/pip install cryptography
    v/bin/python verify.py . --public-key KEY-YOU-TRUST.pem
    v/bin/python verify.py . --from CHECKPOINT-YOU-KEPT.txt
    v/bin/python verify.py . --prove LEAF-INDEX

The formats, and how to check a checkpoint signature with openssl alone, are in Conduct's
docs/audit.md.
"""


class ExportError(Exception):
    """The export cannot be written where asked."""


@dataclass(frozen=True)
class ExportSummary:
    events: int
    checkpoints: int


def export_log(
    connection: Connection, directory: Path, *, progress: Callable[[int], None] | None = None
) -> ExportSummary:
    """Write the sealed log (up to its latest checkpoint) to ``directory``, new or empty."""
    prepare_directory(directory)
    latest = latest_checkpoint(connection)
    size = 0 if latest is None else latest.tree_size
    events = _write_events(connection, directory / "events.jsonl", size, progress)
    checkpoints = _write_checkpoints(connection, directory / "checkpoints.jsonl")
    (directory / "checkpoint.txt").write_text("" if latest is None else latest.note)
    (directory / "audit-public-key.pem").write_bytes(audit_public_key_pem())
    key_line = verifier_key(log_origin(), audit_public_key()) + "\n"
    (directory / "audit-verifier-key.txt").write_text(key_line)
    _write_verifier(directory)
    (directory / "README.txt").write_text(README.format(size=size))
    return ExportSummary(events, checkpoints)


def prepare_directory(directory: Path) -> None:
    """Make ``directory``, or accept it empty; ExportError otherwise."""
    if directory.exists() and any(directory.iterdir()):
        raise ExportError(f"{directory} is not empty: export into a new or empty directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(f"cannot create {directory}: {error.strerror}") from None


def record_export(actor) -> None:
    """The export is an access to the log: its event, in the caller's unit of work."""
    record("audit.export", actor=actor, object_type="audit_log")
    db.session.flush()


def _write_events(connection, path: Path, size: int, progress) -> int:
    """One canonical line per leaf below ``size``, line i for leaf i; ``null`` for a leaf or an
    event that is gone (the verifier then says where)."""
    query = leaves_with_events(connection.dialect.name)
    encode = row_encoder(connection.dialect.name)
    streaming = connection.execution_options(stream_results=True)
    result = streaming.execute(query, {"start": 0, "stop": size})
    written = 0
    with result, path.open("wb") as handle:
        for rows in result.partitions(ROWS_PER_FETCH):
            for row in rows:
                while written < row[0]:
                    handle.write(b"null\n")
                    written += 1
                handle.write(b"null" if row[3] else encode(row[4:]))
                handle.write(b"\n")
                written += 1
            if progress is not None:
                progress(len(rows))
    return written


def _write_checkpoints(connection, path: Path) -> int:
    rows = connection.execute(
        select(AuditCheckpoint.tree_size, AuditCheckpoint.note).order_by(AuditCheckpoint.tree_size)
    )
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for size, note in rows:
            handle.write(json.dumps({"tree_size": size, "note": note}, ensure_ascii=False) + "\n")
            count += 1
    return count


def _write_verifier(directory: Path) -> None:
    """The standalone verifier and the one module of Conduct it needs, copied verbatim."""
    verifier = resources.files("conduct.crypto").joinpath("audit_offline_verifier.py")
    (directory / "verify.py").write_text(verifier.read_text(encoding="utf-8"), encoding="utf-8")
    source = Path(logformat.__file__).read_text(encoding="utf-8")
    (directory / "logformat.py").write_text(source, encoding="utf-8")

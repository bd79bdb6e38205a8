"""Verifying the audit log: recompute every leaf and the tree, check every signed checkpoint.

A full check recomputes each leaf hash from its event's columns (``leafcheck``: in this
process, or shared out to helper processes for a long log), rebuilds the tree from those hashes
in leaf order and compares its root, at each checkpoint's size, with the root that checkpoint
signs; every checkpoint's signature is checked too. Since every signed root is recomputed from
the same sequence of leaves, the checkpoints are also proved consistent with each other (each
tree is a prefix of the next).

An incremental check starts from a checkpoint the auditor trusts (kept from an earlier check
or export): its signature is checked, then the stored tree at its size must still have its
root (the stored frontier at that size must give it: a consistency proof), and only the later
leaves are recomputed.

The first problem in leaf order is reported with its leaf index. Where the change shows in the
stored bookkeeping (an event edited, deleted, moved, or leaves missing) the index is exact;
where someone rewrote events and leaf hashes alike, only the signed roots can tell, and the
index is the first leaf after the last checkpoint that still matches. Events not sealed yet
are counted and listed, not reported as a problem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from conduct.crypto.audit_signing import is_valid_checkpoint_signature

from .checkpoints import latest_checkpoint
from .leafcheck import LeafHashes, Problem, default_processes, recompute_leaves
from .logformat import (
    Frontier,
    NoteError,
    SignedNote,
    key_id,
    parse_note,
)
from .models import AuditCheckpoint, AuditEvent, AuditLeaf
from .rows import COUNT_UNSEALED, UNSEALED_IDS
from .sealer import late_event_floor

UNSEALED_SHOWN = 10


class TrustedCheckpointError(ValueError):
    """The checkpoint given as trusted is not a valid checkpoint of this log."""


@dataclass
class VerifyReport:
    started_at: int = 0
    tree_size: int = 0
    checkpoints_checked: int = 0
    root: bytes | None = None
    unsealed: int = 0
    unsealed_ids: list[int] = field(default_factory=list)
    problem: Problem | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class _SignedRoot:
    size: int
    root: bytes
    source: str  # "checkpoint N" or "the trusted checkpoint"


class _TreeCheck:
    """The tree grown from recomputed leaf hashes, in leaf order, and compared at each signed
    root's size with that root."""

    def __init__(self, frontier: Frontier, roots: list[_SignedRoot]):
        self.frontier = frontier
        self.pending = [root for root in roots if root.size > frontier.size]  # by size
        self.next = 0
        self.last_good = frontier.size
        self.checked = 0

    @property
    def cuts(self) -> list[int]:
        """The sizes at which a root is compared: the leaves' subtrees must end there."""
        return [root.size for root in self.pending]

    def add(self, hashes: LeafHashes) -> Problem | None:
        """Append the leaves of ``hashes``; the first signed root the tree does not give."""
        frontier, pending = self.frontier, self.pending
        if hashes.start != frontier.size:
            raise ValueError("leaf hashes must be added in leaf order")
        for subtree in hashes.subtrees:
            frontier.add_subtrees([subtree])
            while self.next < len(pending) and pending[self.next].size <= frontier.size:
                signed = pending[self.next]
                if signed.size != frontier.size:
                    raise ValueError("a subtree crosses the size of a signed root")
                self.next += 1
                if frontier.root() != signed.root:
                    return Problem(
                        self.last_good,
                        f"{signed.source} signs a root that leaves {self.last_good} to "
                        f"{signed.size - 1} no longer give: one of them was changed, "
                        "removed, inserted or moved",
                    )
                self.checked += 1
                self.last_good = signed.size
        return None


class LogVerifier:
    """One verification run over ``connection`` (a read snapshot) with the log's public key."""

    def __init__(self, connection: Connection, public_key: bytes, origin: str):
        self.connection = connection
        self.public_key = public_key
        self.origin = origin
        self.key_id = key_id(origin, public_key)
        self.report = VerifyReport()

    # --- Checkpoints ---

    def check_note(self, note_text: str) -> tuple[SignedNote | None, str | None]:
        """The parsed note, or the reason it is not a valid checkpoint of this log."""
        try:
            note = parse_note(note_text)
        except NoteError as error:
            return None, str(error)
        if note.checkpoint.origin != self.origin:
            return None, f"its origin is {note.checkpoint.origin!r}, not {self.origin!r}"
        signature = note.signature_by(self.origin, self.key_id)
        if signature is None:
            return None, "it carries no signature by this log's key"
        if not is_valid_checkpoint_signature(self.public_key, note.body, signature):
            return None, "its signature is not valid"
        return note, None

    def stored_roots(self, after: int) -> tuple[list[_SignedRoot], Problem | None]:
        """The signed roots of the stored checkpoints larger than ``after``, checked."""
        rows = self.connection.execute(
            select(AuditCheckpoint.tree_size, AuditCheckpoint.root_hash, AuditCheckpoint.note)
            .where(AuditCheckpoint.tree_size > after)
            .order_by(AuditCheckpoint.tree_size)
        ).all()
        roots, previous = [], after
        for size, root_hash, note_text in rows:
            note, reason = self.check_note(note_text)
            if note is None:
                return roots, Problem(previous, f"checkpoint {size}: {reason}")
            if note.checkpoint.size != size or note.checkpoint.root != bytes(root_hash):
                return roots, Problem(
                    previous, f"checkpoint {size}: its note and its stored size or root differ"
                )
            roots.append(_SignedRoot(size, note.checkpoint.root, f"checkpoint {size}"))
            previous = size
        return roots, None

    # --- Leaves ---

    def stream(
        self,
        frontier: Frontier,
        roots: list[_SignedRoot],
        stop_at: int | None,
        progress: Callable[[int], None] | None,
        processes: int = 1,
    ) -> Problem | None:
        """Recompute the leaves from ``frontier.size`` on; the first problem, or None."""
        tree = _TreeCheck(frontier, roots)
        problem = None
        for hashes in recompute_leaves(
            self.connection,
            frontier.size,
            stop_at,
            cuts=tree.cuts,
            processes=processes,
            progress=progress,
        ):
            problem = tree.add(hashes) or hashes.problem
            if problem is not None:
                break
        self.report.checkpoints_checked += tree.checked
        if problem is None:
            self.report.tree_size = frontier.size
            self.report.root = frontier.root()
        return problem

    # --- Unsealed events ---

    def count_unsealed(self, sealed_after: int, *, everywhere: bool) -> None:
        """How many events have no leaf, and the first few ids above ``sealed_after``.

        ``everywhere`` counts over the whole table; otherwise only above ``sealed_after``
        (an incremental check: the events newer than the trusted checkpoint's, and above the
        sealer's horizon), which keeps it from reading every event.
        """
        if everywhere:
            total = self.connection.scalar(select(func.count()).select_from(AuditEvent))
            leaves = self.connection.scalar(select(func.count()).select_from(AuditLeaf))
            self.report.unsealed = max(0, total - leaves)
        else:
            self.report.unsealed = self.connection.scalar(COUNT_UNSEALED, {"after": sealed_after})
        if self.report.unsealed:
            self.report.unsealed_ids = list(
                self.connection.scalars(
                    UNSEALED_IDS, {"after": sealed_after, "limit": UNSEALED_SHOWN}
                )
            )


def verify_log(
    connection: Connection,
    public_key: bytes,
    origin: str,
    *,
    trusted_note: str | None = None,
    progress: Callable[[int], None] | None = None,
    processes: int | None = None,
) -> VerifyReport:
    """Verify the stored log, fully or from ``trusted_note``; the report names any problem.

    ``processes`` (default: one per CPU) is how many processes may share the recomputing of
    the leaves of a long log (see ``leafcheck``); the result is the same with any number.
    Raises TrustedCheckpointError if ``trusted_note`` is not a valid checkpoint of this log.
    """
    if processes is None:
        processes = default_processes()
    verifier = LogVerifier(connection, public_key, origin)
    report = verifier.report
    frontier, trusted = Frontier(), None
    if trusted_note is not None:
        trusted = _trusted_root(verifier, trusted_note)
        frontier = _stored_frontier(connection, trusted) or Frontier()
        if frontier.size == 0:
            report.notes.append(
                f"the stored tree at size {trusted.size} does not give the trusted root: "
                "every leaf is checked"
            )
    report.started_at = frontier.size
    roots, note_problem = verifier.stored_roots(frontier.size)
    if trusted is not None and trusted.size > frontier.size:
        roots = sorted([*roots, trusted], key=lambda root: root.size)
    stop_at = None if note_problem is None else note_problem.index
    report.problem = verifier.stream(frontier, roots, stop_at, progress, processes) or note_problem
    if report.problem is None:
        report.problem = _count_problem(report.tree_size, report.started_at, roots)
    if frontier.size:  # incremental: what is newer than the trusted checkpoint
        floor = max(_late_event_floor(connection), _max_event_id_at(connection, frontier.size))
    else:
        floor = _late_event_floor(connection)
    verifier.count_unsealed(floor, everywhere=frontier.size == 0)
    return report


def _max_event_id_at(connection: Connection, size: int) -> int:
    stored = connection.scalar(
        select(AuditCheckpoint.max_event_id).where(AuditCheckpoint.tree_size == size)
    )
    return stored or 0


def _trusted_root(verifier: LogVerifier, note_text: str) -> _SignedRoot:
    note, reason = verifier.check_note(note_text)
    if note is None:
        raise TrustedCheckpointError(f"the trusted checkpoint is not one of this log: {reason}")
    checkpoint = note.checkpoint
    return _SignedRoot(checkpoint.size, checkpoint.root, "the trusted checkpoint")


def _stored_frontier(connection: Connection, trusted: _SignedRoot) -> Frontier | None:
    """The stored frontier at the trusted size, if it still gives the trusted root."""
    stored = connection.scalar(
        select(AuditCheckpoint.frontier).where(AuditCheckpoint.tree_size == trusted.size)
    )
    if stored is None:
        return None
    try:
        frontier = Frontier.from_bytes(trusted.size, bytes(stored))
    except ValueError:
        return None
    return frontier if frontier.root() == trusted.root else None


def _count_problem(leaves: int, start: int, roots: list[_SignedRoot]) -> Problem | None:
    """Leaves missing at the end, or leaves beyond the last checkpoint."""
    covered = max((root.size for root in roots), default=start)
    if leaves < covered:
        return Problem(
            leaves, f"leaf {leaves} is missing: checkpoints cover {covered} leaves, {leaves} exist"
        )
    if leaves > covered:
        return Problem(covered, f"leaf {covered} was added without a signed checkpoint")
    return None


def _late_event_floor(connection: Connection) -> int:
    latest = latest_checkpoint(connection)
    return 0 if latest is None else late_event_floor(connection, latest.created_at)

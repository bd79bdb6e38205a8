"""Recomputing leaf hashes: each leaf's hash from its event's stored columns, compared with the
stored hash, over the leaves of a verify, in this process and, for long logs, helper processes.

This is most of a verify's work (a million events: fetching their columns, encoding, hashing),
and it splits: a leaf's hash needs only its own event. So a long run of leaves is cut into
consecutive pieces; helper processes each recompute one piece while this process does the
last, and the pieces come back in leaf order as :class:`LeafHashes`. Verify builds the tree
from them (one sequence of leaf hashes, as in one pass), so the first problem is the one a
single pass would name: a piece stops at its first bad leaf, and the pieces after it are not
used. Each piece's hashes come back folded into perfect subtrees (``perfect_subtrees`` in
logformat), cut at every size where verify compares the tree with a signed root: the folding
is most of the tree's hashing, and it is done where the leaves are, in parallel.

Every process reads the same state of the log:

- on PostgreSQL the verifying transaction exports its snapshot and each helper imports it
  (``SET TRANSACTION SNAPSHOT``);
- SQLite connections cannot share a snapshot, so a helper reads in a read transaction of its
  own, begun after the verifying one, over leaves the verifying transaction sees (the pieces
  end at its last leaf). Leaves and events are never updated or deleted (the tables refuse it),
  so a helper reads the same rows, unless someone who bypasses that edits them during the
  check, and then the edit is reported like any other.

Pieces are at most :data:`LEAVES_PER_PROCESS` leaves, so a longer log is done in rounds, each
starting helpers anew.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from hashlib import sha256

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from conduct.core.db import READ_ONLY

from .logformat import perfect_subtrees
from .rows import leaves_with_events, row_encoder

log = logging.getLogger(__name__)

ROWS_PER_FETCH = 5_000
# Fewer leaves than this are recomputed in this process alone: starting a helper (a fork, a
# connection, the snapshot) costs more than it saves.
PARALLEL_MINIMUM = 100_000
LEAVES_PER_PROCESS = 1_000_000
MAX_PROCESSES = 8

_LAST_LEAF = text("SELECT max(leaf_index) FROM audit_leaves")


def leaves_stored(connection: Connection) -> int:
    """One more than the largest leaf index (an index look-up, not a count of the table)."""
    last = connection.scalar(_LAST_LEAF)
    return 0 if last is None else last + 1


@dataclass(frozen=True)
class Problem:
    index: int
    message: str


@dataclass
class LeafHashes:
    """Leaves ``start`` to ``start + count`` recomputed and found good, their hashes folded into
    perfect subtrees; ``problem`` is the first bad leaf, right after them, or None; ``ended``
    says no more leaves follow in this snapshot."""

    start: int
    count: int = 0
    subtrees: list[tuple[int, bytes]] = field(default_factory=list)
    problem: Problem | None = None
    ended: bool = False

    @property
    def final(self) -> bool:
        """Nothing after these is to be used: a problem, or the leaves ran out."""
        return self.problem is not None or self.ended


def default_processes() -> int:
    """One process per CPU (up to :data:`MAX_PROCESSES`)."""
    return max(1, min(os.cpu_count() or 1, MAX_PROCESSES))


def recompute_leaves(
    connection: Connection,
    start: int,
    stop_at: int | None,
    *,
    cuts: list[int],
    processes: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Iterator[LeafHashes]:
    """The leaves from ``start`` (up to ``stop_at``, if given) recomputed, in leaf order, their
    subtrees cut at each of ``cuts`` (tree sizes, in increasing order).

    Stops after the first batch that is :attr:`LeafHashes.final`. ``processes`` above 1 lets
    long runs of leaves be spread over that many processes.
    """
    stop = max(start, leaves_stored(connection))  # no leaf read at or after it
    end = stop if stop_at is None else min(stop, stop_at)
    if processes < 2 or end - start < PARALLEL_MINIMUM or not _can_share(connection):
        yield from _read(connection, start, end, stop, cuts, progress)
        return
    snapshot = _export_snapshot(connection)
    for pieces in _rounds(start, end, processes):
        final = yield from _round(connection, snapshot, pieces, stop, cuts, progress)
        if final:
            return


def _read(
    connection: Connection, start: int, end: int, stop: int, cuts: list[int], progress
) -> Iterator[LeafHashes]:
    """Leaves ``start`` to ``end`` (excluded) recomputed, one batch per fetch. Rows are read up
    to ``stop`` so that a gap just before ``end`` is seen (the next leaf is named)."""
    encode = row_encoder(connection.dialect.name)
    index = start
    for rows in _fetch(connection, start, stop):
        digests, problem = _check(rows, index, end, encode)
        yield LeafHashes(index, len(digests), _fold(index, digests, cuts), problem)
        index += len(digests)
        if progress is not None:
            progress(len(digests))
        if problem is not None or index == end:
            return
    yield LeafHashes(index, ended=index < end)


def _check(rows, index: int, end: int, encode) -> tuple[list[bytes], Problem | None]:
    """The hashes of the leaves of ``rows`` from ``index`` on, up to ``end`` or the first bad
    one (then also what is wrong with it). Kept tight: it runs once per leaf."""
    digests = []
    append = digests.append
    for row in rows:
        if index == end:
            break
        if row[0] != index or row[3]:
            return digests, leaf_problem(index, row)
        try:
            digest = sha256(b"\x00" + encode(row[4:])).digest()
        except (TypeError, ValueError):  # a value no event could hold
            return digests, leaf_problem(index, row)
        if digest != row[2]:
            return digests, leaf_problem(index, row)
        append(digest)
        index += 1
    return digests, None


def _fold(start: int, digests: list[bytes], cuts: list[int]) -> list[tuple[int, bytes]]:
    """The leaf hashes ``digests`` (leaves ``start`` on) as perfect subtrees, none across a cut."""
    end = start + len(digests)
    inside = cuts[bisect_right(cuts, start) : bisect_left(cuts, end)]
    subtrees, position = [], start
    for cut in [*inside, end]:
        subtrees += perfect_subtrees(position, digests[position - start : cut - start])
        position = cut
    return subtrees


def _fetch(connection: Connection, start: int, stop: int) -> Iterator[list]:
    """Rows of :func:`leaves_with_events` from ``start`` to ``stop``, as the driver returns
    them (no result processing: this runs once per leaf). On PostgreSQL through a server-side
    cursor in binary format, so the hashes arrive as bytes."""
    query = leaves_with_events(connection.dialect.name)
    params = {"start": start, "stop": stop}
    if connection.dialect.name == "postgresql":
        compiled = query.compile(dialect=connection.dialect)
        driver = connection.connection.driver_connection
        with driver.cursor(name="conduct_audit_leaves", binary=True) as cursor:
            cursor.execute(str(compiled), params)
            yield from _read_ahead(partial(cursor.fetchmany, ROWS_PER_FETCH))
        return
    result = connection.execute(query, params)
    try:
        while rows := result.cursor.fetchmany(ROWS_PER_FETCH):
            yield rows
    finally:
        result.close()


def _read_ahead(fetch: Callable[[], list]) -> Iterator[list]:
    """The batches ``fetch`` returns, up to an empty one, each asked for while the caller
    works on the one before: the server then finds and sends rows while this process hashes.

    Only the thread uses the connection until the batches end (or the caller stops, which waits
    for the fetch under way).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-fetch") as fetcher:
        pending = fetcher.submit(fetch)
        while rows := pending.result():
            pending = fetcher.submit(fetch)
            yield rows


def leaf_problem(index: int, row) -> Problem:
    """What is wrong at leaf ``index``, given the row read there."""
    leaf_index, event_id, _stored_hash, missing = row[:4]
    if leaf_index != index:
        return Problem(index, f"leaf {index} is missing (the next is {leaf_index})")
    if missing:
        return Problem(index, f"leaf {index}: event {event_id} is missing")
    return Problem(index, f"leaf {index}: event {event_id} was changed after sealing")


# --- Helper processes -----------------------------------------------------------------------


def _can_share(connection: Connection) -> bool:
    """Whether other processes can open this database: not an in-memory SQLite one, and
    processes can be forked here (they inherit the loaded code, so they start at once)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    url = connection.engine.url
    return url.get_backend_name() == "postgresql" or url.database not in (None, "", ":memory:")


def _export_snapshot(connection: Connection) -> str | None:
    """The PostgreSQL snapshot id the helpers import; None on SQLite."""
    if connection.dialect.name != "postgresql":
        return None
    return connection.scalar(text("SELECT pg_export_snapshot()"))


def _rounds(start: int, end: int, processes: int) -> Iterator[list[tuple[int, int]]]:
    """``[start, end)`` as rounds of up to ``processes`` consecutive pieces of equal length."""
    while start < end:
        count = min(end - start, processes * LEAVES_PER_PROCESS)
        pieces = min(processes, max(1, count // (PARALLEL_MINIMUM // 2)))
        bounds = [start + count * number // pieces for number in range(pieces + 1)]
        yield list(zip(bounds, bounds[1:], strict=False))
        start += count


def _round(connection, snapshot, pieces, stop, cuts, progress) -> Iterator[LeafHashes]:
    """Helpers recompute all pieces but the last, which this process does meanwhile; the
    results come back in leaf order. Returns whether a final batch was given."""
    context = multiprocessing.get_context("fork")
    helpers = []
    try:
        for piece_start, piece_end in pieces[:-1]:
            receiver, sender = context.Pipe(duplex=False)
            url = connection.engine.url
            process = context.Process(
                target=_helper,
                args=(url, snapshot, piece_start, piece_end, stop, cuts, sender),
            )
            process.start()
            sender.close()
            helpers.append((process, receiver, piece_start, piece_end))
        own_start, own_end = pieces[-1]
        own = list(_read(connection, own_start, own_end, stop, cuts, progress))
        for _process, receiver, piece_start, piece_end in helpers:
            hashes = _helper_result(connection, receiver, (piece_start, piece_end, stop, cuts))
            if progress is not None:
                progress(hashes.count)
            yield hashes
            if hashes.final:
                return True
        for hashes in own:
            yield hashes
            if hashes.final:
                return True
        return False
    finally:
        for process, receiver, *_ in helpers:
            receiver.close()
            process.join(timeout=1)  # one that answered ends at once
            if process.is_alive():  # not needed any more (a problem came before its piece)
                process.kill()
                process.join()


def _helper_result(connection, receiver, piece: tuple) -> LeafHashes:
    """A helper's piece; if the helper failed, this process recomputes the piece itself.
    ``piece`` is the helper's arguments to :func:`_read_piece`."""
    try:
        outcome = receiver.recv()
    except EOFError:
        outcome = "the process ended without an answer"
    if isinstance(outcome, LeafHashes):
        return outcome
    log.warning("a verify helper process failed (%s): its leaves are checked here", outcome)
    return _read_piece(connection, *piece)


def _read_piece(connection: Connection, start: int, end: int, stop: int, cuts) -> LeafHashes:
    """:func:`_read`'s batches as one."""
    piece = LeafHashes(start)
    for hashes in _read(connection, start, end, stop, cuts, None):
        piece.count += hashes.count
        piece.subtrees += hashes.subtrees
        piece.problem, piece.ended = hashes.problem, hashes.ended
    return piece


def snapshot_connection(engine) -> Connection:
    """A read-only connection that sees one consistent state of the log: REPEATABLE READ on
    PostgreSQL (an SQLite read transaction is a snapshot already)."""
    connection = engine.connect().execution_options(**READ_ONLY)
    if connection.dialect.name == "postgresql":
        connection.execution_options(isolation_level="REPEATABLE READ")
    return connection


def _helper(url, snapshot: str | None, start: int, end: int, stop: int, cuts, sender) -> None:
    """In a helper process: recompute leaves ``start`` to ``end`` through a connection of its
    own, in the verifying transaction's snapshot, and send back one :class:`LeafHashes`."""
    try:
        engine = create_engine(url, poolclass=NullPool)
        with snapshot_connection(engine) as connection:
            if snapshot is not None:
                connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            piece = _read_piece(connection, start, end, stop, cuts)
        sender.send(piece)
    except Exception as error:  # noqa: BLE001 - the parent does the piece itself
        with suppress(OSError):  # the parent may have stopped listening
            sender.send(type(error).__name__)  # its kind only: the text could quote values
    finally:
        sender.close()

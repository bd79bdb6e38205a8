"""Sealed snapshots of the tables' records, brought up to date from the change log.

Reading and opening every row of 100,000 cases takes seconds; most of the time only a few
cases changed since the tables were last computed. So each table's records
(:mod:`.units`) are kept in the database as one value sealed with the statistics key
(``conduct.crypto.snapshots``), labelled with the statistics generation they were read at.
To compute a table, :func:`current_records` opens its snapshot, asks the change log
(``statistics_changes``, written by ``conduct.cases.generation`` in each writer's transaction)
which cases changed after that generation, drops their records and reads those cases again.

Why the result equals reading everything: every commit that changes a row of a case logs the
case under the generation it raises, in its own transaction. A case with no log entry after
the snapshot's generation has not changed since the snapshot read it; every other case is read
now. A write the log cannot pin to cases (a bulk statement) logs "every case", and the records
are read in full. The snapshot is rewritten when it is missing, unreadable (another layout of
codes) or behind by :data:`REFRESH_AFTER` changed cases or more, so the work per answer stays
small without writing a large value after every change. A transaction that changed cases
itself reads everything and stores nothing (its view is its own).

Writing a snapshot prunes the log up to the oldest snapshot's generation. A snapshot written
meanwhile by another answer at an older generation would then miss entries; the pruning
raises a mark first (``conduct.cases.generation.prune_changes``), and a snapshot older than
the mark is not used.
"""

from __future__ import annotations

import io

import numpy as np
from sqlalchemy import func, select

from conduct.cases.generation import (
    EVERY_CASE,
    StatisticsChange,
    changes_pruned_through,
    prune_changes,
)
from conduct.core.db import db, driver_rows, upsert
from conduct.crypto import IntegrityError, KeyFormatError, current_vault
from conduct.crypto.snapshots import open_snapshot, seal_snapshot

from . import units
from .facts import case_key
from .models import StatisticsSnapshot

# Changed cases read again on top of a snapshot at most; beyond, everything is read.
MAX_CHANGED = 20_000
# Changed cases from which the snapshot is rewritten at the current generation.
REFRESH_AFTER = 1_000


def current_records(table: str, generation: int | None) -> units.Records:
    """The table's records as of ``generation`` or later (see the module docstring)."""
    if generation is None:
        return units.read_records(table, None)
    stored = _load(table)
    records = None if stored is None else _brought_up_to_date(table, *stored, generation)
    if records is None:
        records = units.read_records(table, None)
        _store(table, generation, records)
    return records


def _brought_up_to_date(
    table: str, taken_at: int, records: units.Records, generation: int
) -> units.Records | None:
    """The snapshot's records with the cases changed since read again; None when the log
    cannot tell which cases changed, or too many did."""
    changed = changed_cases_since(taken_at)
    if changed is None or len(changed) > MAX_CHANGED:
        return None
    if taken_at < changes_pruned_through():  # read after the log: it shows any pruning
        return None
    if not changed:
        return records
    fresh = units.read_records(table, changed)
    kept = units.without_cases(records, np.array(changed, dtype="S32"))
    records = units.merged(table, [kept, fresh])
    if len(changed) >= REFRESH_AFTER:
        _store(table, generation, records)
    return records


def changed_cases_since(generation: int) -> list[str] | None:
    """The cases (32 hex digits) changed by commits after ``generation``; None when some
    change could not be pinned to cases."""
    key = case_key(StatisticsChange.case_id)
    rows = driver_rows(
        select(key).where(StatisticsChange.generation > generation).distinct().order_by(key)
    )
    changed = [row[0] for row in rows]
    if EVERY_CASE.hex in changed:
        return None
    return changed


def _load(table: str) -> tuple[int, units.Records] | None:
    row = db.session.execute(
        select(StatisticsSnapshot.generation, StatisticsSnapshot.sealed).where(
            StatisticsSnapshot.name == table
        )
    ).first()
    if row is None:
        return None
    try:
        data = open_snapshot(current_vault(), table, row.generation, row.sealed)
    except (IntegrityError, KeyFormatError):
        return None  # altered, moved or sealed with another key: read everything, replace it
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        if str(stored["layout"]) != units.layout_signature(table):
            return None
        records = {name: stored[name] for name in units.LAYOUTS[table]}
    return row.generation, records


def _store(table: str, generation: int, records: units.Records) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, layout=np.array(units.layout_signature(table)), **records)
    sealed = seal_snapshot(current_vault(), table, generation, buffer.getvalue())
    statement = upsert(StatisticsSnapshot).values(name=table, generation=generation, sealed=sealed)
    # Concurrent answers may both write: the later generation stays.
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[StatisticsSnapshot.name],
            set_={"generation": generation, "sealed": sealed},
            where=StatisticsSnapshot.generation <= generation,
        )
    )
    # Entries older than every snapshot serve nothing any more.
    oldest = db.session.scalar(select(func.min(StatisticsSnapshot.generation)))
    if oldest:
        prune_changes(oldest)

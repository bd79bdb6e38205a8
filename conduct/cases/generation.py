"""The statistics generation: a counter that moves on with every committed change to the rows
statistics are computed from.

Computed report tables are kept per generation (``conduct.reports.services``): reading the
counter is one primary-key look-up, so a cached answer costs that, the cut and its audit
event. The counter must move on with *every* such change, whichever process makes it, so it
is a row in the database, raised in the writer's own transaction:

- after each flush, a session notes the cases of the rows it inserted, changed or deleted
  that have coded facts (any model with ``__coded__``: cases, persons, referrals, status
  changes, measures, findings, claims) or are data keys (shredding); an INSERT, UPDATE or
  DELETE statement on one of those tables notes :data:`EVERY_CASE`, as it cannot be pinned
  to cases, unless it runs with :func:`only_cases` naming them (shredding does);
- just before a session with notes commits, ``UPDATE statistics_generation SET value = value
  + 1 RETURNING value`` runs in its transaction, and the noted cases are logged in
  ``statistics_changes`` under the new value (``conduct.reports.snapshots`` reads again only
  the cases logged after its snapshot). The database serialises concurrent writers on the
  counter row (each adds one to the value the previous one committed, so generations follow
  commit order), and the lock is taken last and held only until the commit, so no writer
  waits on it for long and no lock order can deadlock on it.

A reader takes the generation *before* reading any row: a table computed from data newer than
its generation is merely recomputed once more, never served in place of newer data. A
transaction that changed such rows itself reads its own uncommitted changes, so it gets no
generation (:func:`statistics_generation` returns None) and must not use or fill a cache.
Changes made outside the ORM session (raw connections) are not seen: none of the service's
writes are.
"""

from __future__ import annotations

import uuid
from functools import cache
from itertools import chain

from sqlalchemy import DDL, BigInteger, Uuid, bindparam, delete, event, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, Session, mapped_column

from conduct.core.db import db
from conduct.crypto.models import DataKey

_ROW = 1
# The second row: the change log holds no entry at or below this generation any more.
_PRUNED_ROW = 2
_CHANGED = "conduct_statistics_changed"
# Logged for a write that cannot be pinned to cases (a bulk statement): every case changed.
EVERY_CASE = uuid.UUID(int=0)
_CASES_OPTION = "conduct_statistics_cases"


class StatisticsGeneration(db.Model):
    """Row 1: how many committed transactions changed what statistics read. Row 2: the
    generation up to which the change log was pruned."""

    __tablename__ = "statistics_generation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger)


class StatisticsChange(db.Model):
    """A case changed by the commit that raised the generation to ``generation``
    (:data:`EVERY_CASE`: any case may have changed)."""

    __tablename__ = "statistics_changes"

    generation: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


# Tables made from the models start with the row (the migration inserts it too).
event.listen(
    StatisticsGeneration.__table__,
    "after_create",
    DDL("INSERT INTO statistics_generation (id, value) VALUES (1, 0), (2, 0)"),
)

_RAISE = (
    update(StatisticsGeneration)
    .where(StatisticsGeneration.id == _ROW)
    .values(value=StatisticsGeneration.value + 1)
    .returning(StatisticsGeneration.value)
)
_LOG_CHANGE = StatisticsChange.__table__.insert()
_LOG_CHANGES_ARRAY = StatisticsChange.__table__.insert().from_select(
    ["generation", "case_id"],
    select(
        bindparam("generation", type_=BigInteger),
        func.unnest(bindparam("cases", type_=postgresql.ARRAY(Uuid))),
    ),
)
_READ = select(StatisticsGeneration.value).where(StatisticsGeneration.id == _ROW)


def statistics_generation() -> int | None:
    """The committed generation this transaction reads, or None when the transaction itself
    changed rows statistics read (its view is its own: nothing cached fits it)."""
    value = db.session.scalar(_READ)  # flushes pending changes first, which marks the session
    return None if db.session.info.get(_CHANGED) else value


def changes_pruned_through() -> int:
    """Log entries at or below this generation may be gone (see :func:`prune_changes`)."""
    value = db.session.scalar(
        select(StatisticsGeneration.value).where(StatisticsGeneration.id == _PRUNED_ROW)
    )
    return value or 0


def prune_changes(through: int) -> None:
    """Delete the change log's entries at or below ``through``. The mark is raised first, so
    a reader that finds entries missing also finds the mark above its snapshot."""
    db.session.execute(
        update(StatisticsGeneration)
        .where(StatisticsGeneration.id == _PRUNED_ROW, StatisticsGeneration.value < through)
        .values(value=through)
    )
    db.session.execute(delete(StatisticsChange).where(StatisticsChange.generation <= through))


@cache
def feeds_statistics(model: type) -> bool:
    """Does a change to rows of ``model`` change what statistics read?"""
    return model is DataKey or bool(getattr(model, "__coded__", None))


@cache
def _watched_tables() -> frozenset[str]:
    # Asked first at a statement, when create_app has imported every model.
    return frozenset(
        mapper.local_table.name
        for mapper in db.Model.registry.mappers
        if feeds_statistics(mapper.class_)
    )


def _case_of(obj) -> uuid.UUID:
    return obj.case_id if isinstance(obj, DataKey) else obj.sealing_case_id


def _note(session: Session, cases) -> None:
    session.info.setdefault(_CHANGED, set()).update(cases)


def _note_rows(session: Session, rows) -> None:
    cases = {_case_of(obj) for obj in rows if feeds_statistics(type(obj))}
    if cases:
        _note(session, cases)


@event.listens_for(Session, "before_flush")
def _note_deletions(session: Session, _context, _instances) -> None:
    # Before the flush, while a deleted row can still be read for its case.
    _note_rows(session, session.deleted)


@event.listens_for(Session, "after_flush")
def _note_writes(session: Session, _context) -> None:
    # After the flush new rows carry their case's id; new and dirty still hold what it wrote.
    _note_rows(session, chain(session.new, (o for o in session.dirty if session.is_modified(o))))


def only_cases(*case_ids: uuid.UUID) -> dict:
    """Execution options for a bulk statement that changes rows of these cases only, so the
    change log names them instead of :data:`EVERY_CASE`."""
    return {_CASES_OPTION: case_ids}


@event.listens_for(Session, "do_orm_execute")
def _note_statements(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and table.name in _watched_tables():
        _note(state.session, state.execution_options.get(_CASES_OPTION) or (EVERY_CASE,))


@event.listens_for(Session, "before_commit")
def _raise_generation(session: Session) -> None:
    session.flush()  # the commit flushes after this hook: note what is still pending now
    cases = session.info.pop(_CHANGED, None)
    if cases:
        generation = session.execute(_RAISE).scalar_one()
        _log_changes(session.connection(), generation, sorted(cases))


def _log_changes(connection, generation: int, cases: list[uuid.UUID]) -> None:
    """Log the cases a commit changed: Core statements on the session's connection (the
    ORM's bulk path would handle each row as an object for nothing); on PostgreSQL one
    statement taking the cases as an array, not one row at a time over the network."""
    if connection.dialect.name == "postgresql":
        connection.execute(_LOG_CHANGES_ARRAY, {"generation": generation, "cases": cases})
    else:
        connection.execute(
            _LOG_CHANGE, [{"generation": generation, "case_id": case_id} for case_id in cases]
        )


@event.listens_for(Session, "after_transaction_end")
def _forget_changes(session: Session, transaction) -> None:
    # A rolled-back transaction changed nothing; a savepoint's end leaves the notes in place.
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)

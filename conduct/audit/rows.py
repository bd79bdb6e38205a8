"""Reading events for hashing: the queries, and the encoding of the rows they return.

Sealing, verifying and exporting all read events through these, so the bytes hashed are the
same whichever runs. The stored UUIDs and time become their canonical text (see
``logformat``) where that is cheapest: in SQL on PostgreSQL (``::text``, ``to_char``), in
Python on SQLite (slicing the stored text beats SQLite's string functions). Verifying a
million events has to be quick.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache, lru_cache

from sqlalchemy import TextClause, text

from .logformat import EVENT_COLUMNS, canonical_time, canonical_uuid, encode_canonical_row

_SQLITE = {"uuid": "{c}", "time": "{c}"}  # as stored: made canonical in Python
_POSTGRESQL = {
    "uuid": "{c}::text",
    "time": "to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
}
_KINDS = {"actor_id": "uuid", "case_id": "uuid", "occurred_at": "time"}


def event_columns(dialect: str) -> str:
    """The select list of :data:`EVENT_COLUMNS` of ``audit_events e``, canonical."""
    forms = _POSTGRESQL if dialect == "postgresql" else _SQLITE
    columns = []
    for name in EVENT_COLUMNS:
        kind = _KINDS.get(name)
        columns.append(f"e.{name}" if kind is None else forms[kind].format(c=f"e.{name}"))
    return ", ".join(columns)


def row_encoder(dialect: str) -> Callable[[Sequence], bytes]:
    """The function giving the canonical encoding of a row of :func:`event_columns`."""
    return encode_canonical_row if dialect == "postgresql" else _encode_sqlite_row


# The same few actors and cases recur through the log: their ids are made canonical once.
_sqlite_uuid = lru_cache(maxsize=65_536)(canonical_uuid)


def _encode_sqlite_row(row: Sequence) -> bytes:
    """SQLite stores a UUID as 32 hex digits and a time, in UTC, as text with microseconds."""
    actor_id, case_id, occurred_at = row[1], row[3], row[10]
    if actor_id is not None:
        actor_id = _sqlite_uuid(actor_id)
    if case_id is not None:
        case_id = _sqlite_uuid(case_id)
    if occurred_at.__class__ is str and len(occurred_at) == 26 and occurred_at[10] == " ":
        occurred_at = f"{occurred_at[:10]}T{occurred_at[11:]}Z"
    else:
        occurred_at = canonical_time(occurred_at)
    return encode_canonical_row(
        (row[0], actor_id, row[2], case_id, *row[4:10], occurred_at, row[11], row[12])
    )


# Events above ``:after`` that have no leaf yet: what the sealer seals and verify counts.
_UNSEALED = (
    " FROM audit_events e WHERE e.id > :after"
    " AND NOT EXISTS (SELECT 1 FROM audit_leaves l WHERE l.event_id = e.id)"
)
COUNT_UNSEALED = text(f"SELECT count(*){_UNSEALED}")  # noqa: S608 - constants
UNSEALED_IDS = text(f"SELECT e.id{_UNSEALED} ORDER BY e.id LIMIT :limit")  # noqa: S608


@cache
def unsealed_events(dialect: str) -> TextClause:
    """Events above ``:after`` without a leaf, in id order, ``:limit`` of them."""
    return text(
        f"SELECT {event_columns(dialect)}{_UNSEALED} ORDER BY e.id LIMIT :limit"  # noqa: S608
    )


@cache
def leaves_with_events(dialect: str) -> TextClause:
    """Leaves from ``:start`` to ``:stop`` (excluded) in index order: index, event id, stored
    hash, whether the event is missing, then the event's columns.

    On PostgreSQL each event is looked up by its key (the ``OFFSET 0`` keeps the planner from
    turning the lookup into a join of whole tables): a few leaves then cost a few lookups
    whatever the table statistics say, and a million cost no more than the hash join the
    planner would otherwise choose. SQLite looks events up by key on its own.
    """
    leaf = "l.leaf_index, l.event_id, l.leaf_hash, e.id IS NULL AS missing"
    if dialect == "postgresql":
        events = (
            "LEFT JOIN LATERAL (SELECT * FROM audit_events x WHERE x.id = l.event_id OFFSET 0) e"
            " ON true"
        )
    else:
        events = "LEFT JOIN audit_events e ON e.id = l.event_id"
    return text(
        f"SELECT {leaf}, {event_columns(dialect)} FROM audit_leaves l {events}"  # noqa: S608 - constants
        " WHERE l.leaf_index >= :start AND l.leaf_index < :stop ORDER BY l.leaf_index"
    )

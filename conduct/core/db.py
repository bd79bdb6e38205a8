"""The database: declarative base, mixins, engine tuning, and the unit of work.

Services only flush. A request (or a CLI command, through :func:`unit_of_work`) commits once at
its end, so a change and the audit event that records it stand or fall together.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, TypeDecorator, Uuid, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """A moment in UTC that reads back time-zone aware on every database.

    PostgreSQL keeps the zone; SQLite stores text without it, so values are written in UTC and
    marked UTC again when read. Naive datetimes are refused: they are always a bug here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use conduct.core.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            uuid.UUID: Uuid(native_uuid=True),
            datetime: UtcDateTime(),
        },
    )


db = SQLAlchemy(model_class=Base)


class UuidKey:
    """A UUID primary key made in Python at construction, so sealed cells can bind to it."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)

    def __init__(self, **kwargs):
        kwargs.setdefault("id", uuid.uuid4())
        super().__init__(**kwargs)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# How long an SQLite transaction waits for another's write lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record) -> None:
    """WAL, a busy timeout and foreign keys on every SQLite connection.

    Autocommit is switched off in the driver so that :func:`_begin_immediate` decides how a
    transaction starts: reads write audit events, so every transaction takes the write lock
    up front instead of failing to upgrade a read lock later.
    """
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = {"conduct_read_only": True}


@event.listens_for(Engine, "begin")
def _begin_immediate(connection) -> None:
    """SQLite transactions take the write lock up front, except on connections given the
    :data:`READ_ONLY` execution options (long reads such as verifying the audit log), which
    read a snapshot without holding writers back."""
    if connection.dialect.name == "sqlite":
        read_only = connection.get_execution_options().get("conduct_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def upsert(model, session=None):
    """An INSERT of ``model`` that takes ``on_conflict_do_update``, for the database of
    ``session`` (default: the application's) (both dialects have one; the core insert has not)."""
    from sqlalchemy.dialects import postgresql, sqlite

    bind = (session or db.session).get_bind()
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def driver_rows(statement) -> list[tuple]:
    """All rows of ``statement`` as the database driver returns them: plain tuples, no result
    type processing. For reads of thousands of rows whose columns the caller takes raw (ids
    as the driver gives them, sealed bytes); runs in the session's transaction.

    On PostgreSQL the rows come in psycopg's binary format: sealed values arrive as their bytes
    instead of hex text to decode, which halves the time of fetching thousands of them. The
    statement's parameters go to psycopg as they are (SQLAlchemy's bind processing is skipped
    there), so they must be plain values psycopg adapts itself: text, numbers, dates, UUIDs.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        compiled = statement.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        with connection.connection.driver_connection.cursor(binary=True) as cursor:
            cursor.execute(str(compiled), compiled.params)
            return cursor.fetchall()
    result = connection.execute(statement)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


@contextmanager
def unit_of_work() -> Iterator:
    """One transaction outside a request (CLI, jobs, tests): commit on success, else roll back.

    The crypto vault opened for it forgets every case data key at the end.
    """
    from conduct.crypto.vault import open_vault

    session = db.session
    with open_vault():
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

"""Alembic environment for Conduct, run by Flask-Migrate inside the application context.

Migrations run against the application's own engine, so the settings (``CONDUCT_DATABASE_URL``)
decide which database they change. The same revisions serve SQLite and PostgreSQL:

- SQLite alters little in place, so autogenerate writes batch operations
  (``render_as_batch``): on SQLite they copy a table into a new one and drop the old one, on
  PostgreSQL they are plain ALTER statements.
- Conduct switches SQLite foreign keys on for every connection. Dropping a parent table while
  they are on would delete (``ON DELETE CASCADE``) or refuse to delete its children, so they
  are off while migrations run, and checked before the transaction commits.
- All revisions of one run share one transaction: a failed run leaves the database as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
logger = logging.getLogger("alembic.env")

# The command line gets Alembic's progress lines. A host that has set up logging already (a
# test run, a server calling upgrade()) keeps its own configuration and loggers.
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

migrate = current_app.extensions["migrate"]
target_metadata = migrate.db.metadata


def skip_empty_revision(migration_context, revision, directives) -> None:
    """`conduct db migrate` writes no file when the models already match the database."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def render_item(type_, obj, autogen_context):
    """Write Conduct's own column types as the plain SQLAlchemy types they store."""
    from conduct.core.db import UtcDateTime
    from conduct.crypto.columns import SealedBytes

    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, SealedBytes):
        return "sa.LargeBinary()"
    return False


def configure_args() -> dict:
    """Flask-Migrate's options (``compare_type=True``), batch operations on every database.

    One set of revisions serves both databases, so autogenerate writes batch operations even
    against PostgreSQL: they copy tables on SQLite and are plain ALTER statements elsewhere.
    """
    args = dict(migrate.configure_args)
    args.setdefault("process_revision_directives", skip_empty_revision)
    args["render_as_batch"] = True
    args["render_item"] = render_item
    return args


@contextmanager
def sqlite_foreign_keys_off(connection) -> Iterator[None]:
    """Switch SQLite foreign keys off for the run, and back on for the pooled connection.

    The pragma only takes effect outside a transaction, so it goes to the driver connection
    before SQLAlchemy begins one.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver_connection = connection.connection.driver_connection
    driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver_connection.execute("PRAGMA foreign_keys=ON")


def check_sqlite_foreign_keys(connection) -> None:
    """Refuse to commit a migration that left rows pointing at nothing."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise RuntimeError(f"migration broke foreign keys in: {', '.join(tables)}")


def run_migrations_offline() -> None:
    """Print the SQL (`conduct db upgrade --sql`) instead of running it."""
    url = migrate.db.engine.url
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        **configure_args(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with (
        migrate.db.engine.connect() as connection,
        sqlite_foreign_keys_off(connection),
        connection.begin(),
    ):
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            **configure_args(),
        )
        context.run_migrations()
        check_sqlite_foreign_keys(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

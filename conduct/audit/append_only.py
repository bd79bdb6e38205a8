"""Database triggers that refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) on audit tables.

They stop the application, a script or a careless administrator from changing the log in place.
A database owner can still drop them: that is what the Merkle tree and the signed checkpoints
are for (``conduct audit verify`` finds the change).

The same statements are created with the tables by ``create_all`` (tests, benchmarks) and by
the migration that introduced them (which keeps its own frozen copy).
"""

from __future__ import annotations

from sqlalchemy import DDL, Table, event

FUNCTION = "conduct_audit_append_only"
MESSAGE = "the audit log is append-only"

POSTGRESQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'insufficient_privilege',
        MESSAGE = TG_OP || ' on ' || TG_TABLE_NAME || ' refused: {MESSAGE}';
END
$body$
"""


def sqlite_statements(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{verb} on {table} refused: {MESSAGE}'); END"
        for verb in ("UPDATE", "DELETE")
    ]


def postgresql_statements(table: str) -> list[str]:
    return [
        POSTGRESQL_FUNCTION,
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()",
    ]


def drop_statements(dialect: str, table: str) -> list[str]:
    """What an administrator runs to remove the triggers of ``table`` (tests do, to tamper)."""
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{verb}" for verb in ("update", "delete")]
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
    ]


def attach(table: Table) -> None:
    """Create the triggers right after ``table`` whenever the metadata creates it."""
    for statement in sqlite_statements(table.name):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in postgresql_statements(table.name):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))

"""Identity documents: each row's identifying fields sealed together in one column

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 10:00:00

Until now each identifying field had a sealed column of its own. This revision adds the sealed
column ``identity`` to every table with identifying fields and moves each row's fields into it,
as one document sealed with the case's data key (see ``conduct.crypto.columns``); then the
per-field columns are dropped. Downgrading seals each field into a column of its own again.

Moving values opens and reseals them with each case's data key, so it needs the keys (as every
``conduct`` command does). A row of a crypto-shredded case can never be read again: it gets an
empty placeholder that no key opens. With ``--sql`` (offline) no value can be moved: the SQL
suits an empty database only.
"""

import sqlalchemy as sa
from alembic import context, op
from flask import current_app
from sqlalchemy.orm import Session

from conduct.crypto import DATE, INTEGER, TEXT, ShreddedError, open_vault
from conduct.crypto.columns import (
    open_identifying_value,
    open_identity_document,
    seal_identifying_value,
    seal_identity_document,
)

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The identifying fields of each table as this revision knows them, in the models' order.
FIELDS = {
    "cases": {"narrative": TEXT, "location": TEXT, "notes": TEXT},
    "case_transfers": {"reason": TEXT},
    "persons": {
        "full_name": TEXT,
        "aliases": TEXT,
        "date_of_birth": DATE,
        "personnel_number": TEXT,
        "national_id": TEXT,
        "contact": TEXT,
    },
    "referrals": {"details": TEXT, "consent_override_reason": TEXT},
    "status_changes": {"reason": TEXT},
    "paternity_claims": {"details": TEXT},
    "attachments": {
        "filename": TEXT,
        "content_type": TEXT,
        "byte_size": INTEGER,
        "description": TEXT,
    },
}
CHUNK = 1000  # rows per read and per batch of updates


def _table(name: str) -> sa.TableClause:
    columns = [sa.column("id", sa.Uuid()), sa.column("identity", sa.LargeBinary())]
    if name != "cases":
        columns.append(sa.column("case_id", sa.Uuid()))
    columns += [sa.column(field, sa.LargeBinary()) for field in FIELDS[name]]
    return sa.table(name, *columns)


def _case_id(name: str, row):
    return row.id if name == "cases" else row.case_id


def _rewrite(name: str, change, targets: list[str]) -> None:
    """Give each row of ``name`` the sealed values ``change(vault, session, row)`` returns for
    the columns ``targets``; a shredded case's rows get empty placeholders."""
    connection = op.get_bind()
    session = Session(bind=connection)
    table = _table(name)
    statement = (
        table.update()
        .where(table.c.id == sa.bindparam("row_id"))
        .values({target: sa.bindparam(f"new_{target}") for target in targets})
    )
    # Rows are read a chunk at a time, in id order, and only one chunk's case keys are kept:
    # a large database is never held in memory at once.
    after = None
    with open_vault(current_app.extensions["conduct_keyring"]) as vault:
        while True:
            query = sa.select(table).order_by(table.c.id).limit(CHUNK)
            if after is not None:
                query = query.where(table.c.id > after)
            chunk = connection.execute(query).all()
            if not chunk:
                break
            vault.preload(session, {_case_id(name, row) for row in chunk})
            updates = []
            for row in chunk:
                try:
                    sealed = change(vault, session, row)
                except ShreddedError:
                    sealed = dict.fromkeys(targets, b"")
                updates.append(
                    {"row_id": row.id, **{f"new_{key}": value for key, value in sealed.items()}}
                )
            connection.execute(statement, updates)
            vault.forget()
            after = chunk[-1].id
    session.close()


def _into_document(name: str):
    fields = FIELDS[name]

    def change(vault, session, row):
        case_id = _case_id(name, row)
        values = {
            field: open_identifying_value(
                vault, session, name, field, token, row.id, case_id, codec
            )
            if token
            else None
            for field, codec in fields.items()
            for token in (getattr(row, field),)
        }
        document = seal_identity_document(vault, session, name, fields, values, row.id, case_id)
        return {"identity": document}

    return change


def _out_of_document(name: str):
    fields = FIELDS[name]

    def change(vault, session, row):
        case_id = _case_id(name, row)
        values = (
            open_identity_document(vault, session, name, fields, row.identity, row.id, case_id)
            if row.identity
            else {}
        )
        return {
            field: seal_identifying_value(
                vault, session, name, field, values.get(field), row.id, case_id, codec
            )
            for field, codec in fields.items()
        }

    return change


def upgrade():
    for name, fields in FIELDS.items():
        with op.batch_alter_table(name) as batch_op:
            batch_op.add_column(sa.Column("identity", sa.LargeBinary(), nullable=True))
        if not context.is_offline_mode():
            _rewrite(name, _into_document(name), ["identity"])
        with op.batch_alter_table(name) as batch_op:
            for field in fields:
                batch_op.drop_column(field)
            batch_op.alter_column("identity", existing_type=sa.LargeBinary(), nullable=False)


def downgrade():
    for name, fields in FIELDS.items():
        with op.batch_alter_table(name) as batch_op:
            for field in fields:
                batch_op.add_column(sa.Column(field, sa.LargeBinary(), nullable=True))
        if not context.is_offline_mode():
            _rewrite(name, _out_of_document(name), list(fields))
        with op.batch_alter_table(name) as batch_op:
            for field in fields:
                batch_op.alter_column(field, existing_type=sa.LargeBinary(), nullable=False)
            batch_op.drop_column("identity")

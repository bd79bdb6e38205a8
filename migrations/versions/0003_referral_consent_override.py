"""Referrals: the consent override reason in a sealed column of its own

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 06:40:00

Until now a victim-assistance referral made without consent kept the officer's reason sealed
at the start of its ``details`` ("Consent override reason: <reason>", then a blank line and the
details). This revision adds the sealed column ``referrals.consent_override_reason`` and moves
each such reason into it; every other referral gets a sealed "no value". Downgrading puts the
reasons back at the start of the details.

The move opens and reseals values with each case's data key, so it needs the keys (as every
``conduct`` command does). A referral of a crypto-shredded case can never be read again: it
gets an empty placeholder that no key opens. With ``--sql`` (offline) no value can be moved:
the SQL suits an empty database only.
"""

import sqlalchemy as sa
from alembic import context, op
from flask import current_app
from sqlalchemy.orm import Session

from conduct.crypto import ShreddedError, open_vault
from conduct.crypto.columns import open_identifying_value, seal_identifying_value

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD_PREFIX = "Consent override reason: "
REFERRALS = sa.table(
    "referrals",
    sa.column("id", sa.Uuid()),
    sa.column("case_id", sa.Uuid()),
    sa.column("details", sa.LargeBinary()),
    sa.column("consent_override_reason", sa.LargeBinary()),
)


def split_details(details):
    """(reason, details) from details written in the old form; (None, details) otherwise."""
    if not details or not details.startswith(OLD_PREFIX):
        return None, details
    reason, _, rest = details[len(OLD_PREFIX) :].partition("\n\n")
    return reason, rest or None


def join_details(reason, details):
    """The old form: the reason at the start of the details."""
    if reason is None:
        return details
    return OLD_PREFIX + reason + (f"\n\n{details}" if details else "")


def _rewrite(change) -> None:
    """Open each referral's cells, let ``change`` give new plain values, reseal them."""
    connection = op.get_bind()
    session = Session(bind=connection)
    columns = ("details", "consent_override_reason")
    with open_vault(current_app.extensions["conduct_keyring"]) as vault:
        rows = connection.execute(sa.select(REFERRALS)).all()
        for row in rows:
            try:
                plain = {
                    name: open_identifying_value(
                        vault, session, "referrals", name, token, row.id, row.case_id
                    )
                    if token
                    else None
                    for name, token in ((name, getattr(row, name)) for name in columns)
                }
                values = change(plain)
                sealed = {
                    name: seal_identifying_value(
                        vault, session, "referrals", name, values[name], row.id, row.case_id
                    )
                    for name in columns
                }
            except ShreddedError:
                sealed = {"consent_override_reason": row.consent_override_reason or b""}
            connection.execute(
                REFERRALS.update().where(REFERRALS.c.id == row.id).values(**sealed)
            )
    session.close()


def _move_reasons_out(plain):
    reason, details = split_details(plain["details"])
    return {"details": details, "consent_override_reason": reason}


def _move_reasons_back(plain):
    details = join_details(plain["consent_override_reason"], plain["details"])
    return {"details": details, "consent_override_reason": None}


def upgrade():
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.add_column(sa.Column("consent_override_reason", sa.LargeBinary(), nullable=True))
    if not context.is_offline_mode():
        _rewrite(_move_reasons_out)
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.alter_column(
            "consent_override_reason", existing_type=sa.LargeBinary(), nullable=False
        )


def downgrade():
    if not context.is_offline_mode():
        _rewrite(_move_reasons_back)
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.drop_column("consent_override_reason")

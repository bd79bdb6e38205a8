"""Statistics snapshots: each table's records sealed with the statistics key, the log of the
cases each commit changed by statistics generation, and the generation the log is pruned to

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statistics_changes",
        sa.Column("generation", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("generation", "case_id", name=op.f("pk_statistics_changes")),
    )
    # The generation up to which the change log is pruned (row 1 is the generation itself).
    generation = sa.table(
        "statistics_generation", sa.column("id", sa.Integer()), sa.column("value", sa.BigInteger())
    )
    op.bulk_insert(generation, [{"id": 2, "value": 0}])
    op.create_table(
        "statistics_snapshots",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_statistics_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("statistics_snapshots")
    op.execute("DELETE FROM statistics_generation WHERE id = 2")
    op.drop_table("statistics_changes")

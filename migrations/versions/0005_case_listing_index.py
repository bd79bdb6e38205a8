"""An index holding everything a filtered case list reads.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_listing",
        "cases",
        ["mission_code", "received_on", "reference", "id", "coded"],
    )


def downgrade() -> None:
    op.drop_index("ix_cases_listing", table_name="cases")

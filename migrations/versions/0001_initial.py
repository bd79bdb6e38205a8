"""Initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 03:41:34.248709

Every table of the models, and the missions of ``conduct.codes.MISSIONS``. Generated with
`conduct db migrate` against an empty database, then tidied by hand: indexes are made with
plain ``op.create_index`` (SQLite makes them in place) and leave with their tables. Constraint
and index names follow the naming convention of ``conduct.core.db``.
"""

import sqlalchemy as sa
from alembic import op

from conduct.codes import MISSIONS

# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_roles", sa.String(length=100), nullable=True),
        sa.Column("object_type", sa.String(length=32), nullable=True),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("case_reference", sa.String(length=32), nullable=True),
        sa.Column("fields", sa.String(length=1000), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_action"), "audit_events", ["action"])
    op.create_index(op.f("ix_audit_events_actor_id"), "audit_events", ["actor_id"])
    op.create_index(op.f("ix_audit_events_case_id"), "audit_events", ["case_id"])
    op.create_index(op.f("ix_audit_events_occurred_at"), "audit_events", ["occurred_at"])

    op.create_table(
        "data_keys",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_data_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_data_keys_key_id")),
    )
    missions = op.create_table(
        "missions",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_missions")),
    )
    op.bulk_insert(
        missions,
        [{"code": code, "name": name, "active": active} for code, name, active in MISSIONS],
    )
    op.create_table(
        "users",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "cases",
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("mission_code", sa.String(length=16), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("narrative", sa.LargeBinary(), nullable=False),
        sa.Column("location", sa.LargeBinary(), nullable=False),
        sa.Column("notes", sa.LargeBinary(), nullable=False),
        sa.Column("coded", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_cases_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["mission_code"], ["missions.code"], name=op.f("fk_cases_mission_code_missions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("reference", name=op.f("uq_cases_reference")),
    )
    op.create_index(op.f("ix_cases_mission_code"), "cases", ["mission_code"])
    op.create_index(op.f("ix_cases_received_on"), "cases", ["received_on"])

    op.create_table(
        "reference_counters",
        sa.Column("mission_code", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mission_code"],
            ["missions.code"],
            name=op.f("fk_reference_counters_mission_code_missions"),
        ),
        sa.PrimaryKeyConstraint("mission_code", "year", name=op.f("pk_reference_counters")),
    )
    op.create_table(
        "user_missions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("mission_code", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["mission_code"], ["missions.code"], name=op.f("fk_user_missions_mission_code_missions")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_missions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "mission_code", name=op.f("pk_user_missions")),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "attachments",
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column("filename", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.LargeBinary(), nullable=False),
        sa.Column("byte_size", sa.LargeBinary(), nullable=False),
        sa.Column("description", sa.LargeBinary(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_attachments_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_attachments_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index(op.f("ix_attachments_case_id"), "attachments", ["case_id"])

    op.create_table(
        "case_team",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_team_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_case_team_user_id_users")),
        sa.PrimaryKeyConstraint("case_id", "user_id", name=op.f("pk_case_team")),
    )
    op.create_table(
        "case_transfers",
        sa.Column("from_mission", sa.String(length=16), nullable=False),
        sa.Column("to_mission", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_user_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.LargeBinary(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["users.id"], name=op.f("fk_case_transfers_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_transfers_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_mission"],
            ["missions.code"],
            name=op.f("fk_case_transfers_from_mission_missions"),
        ),
        sa.ForeignKeyConstraint(
            ["to_mission"], ["missions.code"], name=op.f("fk_case_transfers_to_mission_missions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_transfers")),
    )
    op.create_index(op.f("ix_case_transfers_case_id"), "case_transfers", ["case_id"])

    op.create_table(
        "persons",
        sa.Column("personnel_number_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("name_dob_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("full_name", sa.LargeBinary(), nullable=False),
        sa.Column("aliases", sa.LargeBinary(), nullable=False),
        sa.Column("date_of_birth", sa.LargeBinary(), nullable=False),
        sa.Column("personnel_number", sa.LargeBinary(), nullable=False),
        sa.Column("national_id", sa.LargeBinary(), nullable=False),
        sa.Column("contact", sa.LargeBinary(), nullable=False),
        sa.Column("coded", sa.LargeBinary(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_persons_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
    )
    op.create_index(op.f("ix_persons_case_id"), "persons", ["case_id"])
    op.create_index(op.f("ix_persons_name_dob_index"), "persons", ["name_dob_index"])
    op.create_index(
        op.f("ix_persons_personnel_number_index"), "persons", ["personnel_number_index"]
    )

    op.create_table(
        "referrals",
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("acknowledged_on", sa.Date(), nullable=True),
        sa.Column("details", sa.LargeBinary(), nullable=False),
        sa.Column("coded", sa.LargeBinary(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_referrals_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    op.create_index(op.f("ix_referrals_case_id"), "referrals", ["case_id"])

    op.create_table(
        "status_changes",
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_user_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.LargeBinary(), nullable=False),
        sa.Column("coded", sa.LargeBinary(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["users.id"], name=op.f("fk_status_changes_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_status_changes_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_changes")),
    )
    op.create_index(op.f("ix_status_changes_case_id"), "status_changes", ["case_id"])

    op.create_table(
        "findings",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("coded", sa.LargeBinary(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_findings_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_findings_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    op.create_index(op.f("ix_findings_case_id"), "findings", ["case_id"])

    op.create_table(
        "interim_measures",
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("coded", sa.LargeBinary(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_interim_measures_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_interim_measures_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interim_measures")),
    )
    op.create_index(op.f("ix_interim_measures_case_id"), "interim_measures", ["case_id"])

    op.create_table(
        "paternity_claims",
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("details", sa.LargeBinary(), nullable=False),
        sa.Column("coded", sa.LargeBinary(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_paternity_claims_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_paternity_claims_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paternity_claims")),
    )
    op.create_index(op.f("ix_paternity_claims_case_id"), "paternity_claims", ["case_id"])


def downgrade():
    # Children before parents; each table takes its indexes with it.
    op.drop_table("paternity_claims")
    op.drop_table("interim_measures")
    op.drop_table("findings")
    op.drop_table("status_changes")
    op.drop_table("referrals")
    op.drop_table("persons")
    op.drop_table("case_transfers")
    op.drop_table("case_team")
    op.drop_table("attachments")
    op.drop_table("user_roles")
    op.drop_table("user_missions")
    op.drop_table("reference_counters")
    op.drop_table("cases")
    op.drop_table("users")
    op.drop_table("missions")
    op.drop_table("data_keys")
    op.drop_table("audit_events")

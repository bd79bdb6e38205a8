"""The case model of brief section 2.

Every column is exactly one of three kinds:

- plain: ids, mission, dates, version, team, timestamps (what access control, ordering and
  deadlines need);
- coded: facts from ``conduct.codes``, sealed together per row with the statistics key
  (``__coded__``);
- identifying: free text and identities, sealed with the case's data key (``__identifying__``).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conduct import codes
from conduct.core.db import Timestamps, UuidKey, db, utcnow
from conduct.crypto import DATE, INTEGER, TEXT, SealedRow, list_of, member_of
from conduct.crypto.columns import SealedBytes, store_column

_PARTIAL_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def partial_date(name: str, value: Any) -> None:
    """YYYY, YYYY-MM or YYYY-MM-DD: incidents are often known only to the month or year."""
    if not isinstance(value, str) or not _PARTIAL_DATE.match(value):
        raise ValueError(f"{name}: expected YYYY, YYYY-MM or YYYY-MM-DD")
    if len(value) == 10:
        date.fromisoformat(value)


def country(name: str, value: Any) -> None:
    if value not in codes.COUNTRIES:
        raise ValueError(f"{name}: expected an ISO 3166 alpha-3 country code")


def _case_fk() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)


class Case(SealedRow, UuidKey, Timestamps, db.Model):
    """One report received (the UN counts allegations by report received)."""

    __tablename__ = "cases"
    __owns_data_key__ = True
    __identifying__ = {"narrative": TEXT, "location": TEXT, "notes": TEXT}
    __coded__ = {
        "source": member_of(codes.SOURCE),
        "category": member_of(codes.CATEGORY),
        "allegation_type": member_of(codes.ALLEGATION_TYPE),
        "status": member_of(codes.STATUS),
        "misconduct_class": member_of(codes.MISCONDUCT_CLASS),
        "incident_date": partial_date,
    }

    reference: Mapped[str] = mapped_column(String(32), unique=True)
    mission_code: Mapped[str] = mapped_column(ForeignKey("missions.code"), index=True)
    received_on: Mapped[date] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    persons: Mapped[list[Person]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Person.created_at"
    )
    referrals: Mapped[list[Referral]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Referral.referred_on"
    )
    history: Mapped[list[StatusChange]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="StatusChange.at"
    )
    measures: Mapped[list[InterimMeasure]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    findings: Mapped[list[Finding]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    paternity_claims: Mapped[list[PaternityClaim]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Attachment.created_at"
    )
    transfers: Mapped[list[CaseTransfer]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseTransfer.at"
    )
    team: Mapped[list[CaseTeamMember]] = relationship(cascade="all, delete-orphan")
    recusals: Mapped[list[CaseRecusal]] = relationship(
        cascade="all, delete-orphan", foreign_keys="CaseRecusal.case_id"
    )

    __mapper_args__ = {"version_id_col": version}
    # Lists filtered on coded facts read every case of a mission: this index holds all they
    # read, so the database scans it instead of the whole table (sealed narratives included).
    __table_args__ = (
        Index("ix_cases_listing", "mission_code", "received_on", "reference", "id", "coded"),
    )


class CaseChild(SealedRow, UuidKey, Timestamps):
    """A row that belongs to one case and is sealed with that case's data key."""

    case_id: Mapped[uuid.UUID] = _case_fk()

    def __init__(self, case: Case | None = None, **kwargs):
        if case is not None:
            kwargs["case_id"] = case.id
            kwargs["case"] = case
        super().__init__(**kwargs)


class CaseTeamMember(db.Model):
    """An officer assigned to a case; only the team sees victims' identities."""

    __tablename__ = "case_team"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseRecusal(db.Model):
    """An officer recused from a case (a conflict of interest): they cannot open it."""

    __tablename__ = "case_recusals"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    recused_at: Mapped[datetime] = mapped_column(default=utcnow)
    recused_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class CaseTransfer(CaseChild, db.Model):
    """A move of a case between missions (for example at a mission's transition)."""

    __tablename__ = "case_transfers"
    __identifying__ = {"reason": TEXT}

    from_mission: Mapped[str] = mapped_column(ForeignKey("missions.code"))
    to_mission: Mapped[str] = mapped_column(ForeignKey("missions.code"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="transfers")


class Person(CaseChild, db.Model):
    """A person linked to a case: victim, subject (alleged perpetrator), witness or reporter.

    Blind indexes are kept for every role that has the data, so the raw database does not
    show which rows are subjects; screening checks the (sealed) role after the look-up.
    """

    __tablename__ = "persons"
    __identifying__ = {
        "full_name": TEXT,
        "aliases": TEXT,
        "date_of_birth": DATE,
        "personnel_number": TEXT,
        "national_id": TEXT,
        "contact": TEXT,
    }
    __coded__ = {
        "role": member_of(codes.PERSON_ROLE),
        "sex": member_of(codes.SEX),
        "age_group": member_of(codes.AGE_GROUP),
        "personnel_category": member_of(codes.PERSONNEL_CATEGORY),
        "nationality": country,
    }

    personnel_number_index: Mapped[bytes | None] = mapped_column(SealedBytes(32), index=True)
    name_dob_index: Mapped[bytes | None] = mapped_column(SealedBytes(32), index=True)

    case: Mapped[Case] = relationship(back_populates="persons")

    def after_sealing(self, vault, values, changed, is_new: bool) -> None:
        """Both indexes of a new row; for a stored row, those whose fields changed."""
        indexer = vault.blind_indexer
        if is_new or "personnel_number" in changed:
            index = indexer.personnel_number(values.get("personnel_number"))
            store_column(self, "personnel_number_index", index, is_new)
        if is_new or "full_name" in changed or "date_of_birth" in changed:
            index = indexer.name_dob(values.get("full_name"), values.get("date_of_birth"))
            store_column(self, "name_dob_index", index, is_new)


class Referral(CaseChild, db.Model):
    """A referral to an investigating entity or to a victim-assistance provider.

    Victim assistance shared without the victim's consent keeps the officer's reason for the
    override in ``consent_override_reason`` (sealed, like the details).
    """

    __tablename__ = "referrals"
    __identifying__ = {"details": TEXT, "consent_override_reason": TEXT}
    __coded__ = {
        "entity": member_of(codes.REFERRAL_ENTITY),
        "purpose": member_of(codes.REFERRAL_PURPOSE),
        "status": member_of(codes.REFERRAL_STATUS),
        "consent": member_of(codes.CONSENT),
    }

    referred_on: Mapped[date]
    due_on: Mapped[date | None]
    acknowledged_on: Mapped[date | None]

    case: Mapped[Case] = relationship(back_populates="referrals")


class StatusChange(CaseChild, db.Model):
    """One step of a case's workflow; the statuses are coded, the reason identifying."""

    __tablename__ = "status_changes"
    __identifying__ = {"reason": TEXT}
    __coded__ = {
        "from_status": member_of(codes.STATUS),
        "to_status": member_of(codes.STATUS),
    }

    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="history")


class InterimMeasure(CaseChild, db.Model):
    __tablename__ = "interim_measures"
    __coded__ = {"type": member_of(codes.INTERIM_MEASURE)}

    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons.id"))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]

    case: Mapped[Case] = relationship(back_populates="measures")
    person: Mapped[Person | None] = relationship()


class Finding(CaseChild, db.Model):
    """The finding on one subject and the actions taken."""

    __tablename__ = "findings"
    __coded__ = {
        "finding": member_of(codes.FINDING),
        "actions": list_of(codes.ACTION),
        "decided_by": member_of(codes.INVESTIGATING_ENTITY),
    }

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    decided_on: Mapped[date | None]

    case: Mapped[Case] = relationship(back_populates="findings")
    person: Mapped[Person] = relationship()


class PaternityClaim(CaseChild, db.Model):
    __tablename__ = "paternity_claims"
    __identifying__ = {"details": TEXT}
    __coded__ = {"status": member_of(codes.PATERNITY_STATUS)}

    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons.id"))
    filed_on: Mapped[date]

    case: Mapped[Case] = relationship(back_populates="paternity_claims")
    person: Mapped[Person | None] = relationship()


class Attachment(CaseChild, db.Model):
    """Evidence metadata; the file itself is stored encrypted with the case's data key."""

    __tablename__ = "attachments"
    __identifying__ = {
        "filename": TEXT,
        "content_type": TEXT,
        "byte_size": INTEGER,
        "description": TEXT,
    }

    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="attachments")


class ReferenceCounter(db.Model):
    """The last case number given per mission and year; taken under a row lock."""

    __tablename__ = "reference_counters"

    mission_code: Mapped[str] = mapped_column(ForeignKey("missions.code"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int]

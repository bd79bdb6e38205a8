"""Accounts, recovery codes and server-side sessions.

Staff identities (email, display name) are plain: they are not case data. The second-factor
seed is sealed with the accounts key, so a copy of the database cannot produce codes.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conduct.core.db import Timestamps, UuidKey, db, utcnow


class User(UuidKey, Timestamps, db.Model):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    password_changed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Second factor: sealed TOTP seed; confirmed once the user has entered a first code.
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    mfa_confirmed_at: Mapped[datetime | None]
    # The last TOTP time step accepted: a code is never accepted twice.
    last_totp_step: Mapped[int | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # The language of the account's pages ("en", "fr"); None follows the browser.
    locale: Mapped[str | None] = mapped_column(String(8))

    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    mission_rows: Mapped[list[UserMission]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(row.role for row in self.role_rows)

    @property
    def missions(self) -> frozenset[str]:
        return frozenset(row.mission_code for row in self.mission_rows)

    @property
    def has_mfa(self) -> bool:
        return self.mfa_confirmed_at is not None

    # flask-login's user protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class UserMission(db.Model):
    __tablename__ = "user_missions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    mission_code: Mapped[str] = mapped_column(ForeignKey("missions.code"), primary_key=True)


class RecoveryCode(UuidKey, db.Model):
    """A one-time recovery code, stored as a SHA-256 digest (the codes carry 80 random bits)."""

    __tablename__ = "recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]


class WebSession(db.Model):
    """A server-side session. The cookie holds a random token; the table holds its digest."""

    __tablename__ = "web_sessions"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

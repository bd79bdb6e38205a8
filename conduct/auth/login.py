"""Login steps: password, then a second factor (enrolled at the first login).

Every outcome is an audit event that names the account by id, never a password, code or seed.
Failures do not raise: the caller answers one generic message, and the failure (with the
account's failure counter) is still committed with the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext
from sqlalchemy import delete, select

from conduct.audit import record
from conduct.core.db import db, utcnow
from conduct.core.errors import ValidationFailed
from conduct.core.i18n import N_
from conduct.crypto.accounts import open_account_secret, seal_account_secret

from . import services as accounts
from . import totp
from .models import RecoveryCode, User, WebSession
from .passwords import hash_password, needs_rehash, verify_password

# The API answers it in English; pages show it in their language.
GENERIC_FAILURE = N_(
    "Login failed: the email, password or code was not accepted. After several failures the "
    "account is locked for a while."
)


@dataclass(frozen=True)
class LoginStep:
    """Where a login stands after a step: ``user`` is set only when the step succeeded."""

    user: User | None
    needs_enrollment: bool = False


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def _fail(user: User | None, reason: str) -> LoginStep:
    """Count a failure against the account and lock it at the configured threshold."""
    if user is None:
        record("login.failed", outcome="failed", object_type="account", fields=[reason])
        return LoginStep(None)
    settings = accounts.current_settings()
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= settings.lockout_attempts and not is_locked(user):
        user.locked_until = utcnow() + timedelta(minutes=settings.lockout_minutes)
        record("login.locked", actor=None, outcome="denied", object_type="user", object_id=user.id)
    record("login.failed", outcome="failed", object_type="user", object_id=user.id, fields=[reason])
    return LoginStep(None)


def check_password_step(email: str, password: str) -> LoginStep:
    """First login step. Costs one password hash whether or not the account exists."""
    user = accounts.find_user(email)
    stored = user.password_hash if user is not None else None
    password_ok = verify_password(accounts.current_hasher(), stored, password or "")
    if user is None:
        return _fail(None, "password")
    if not user.active:
        return _fail(user, "disabled")
    if is_locked(user):
        record(
            "login.failed",
            outcome="denied",
            object_type="user",
            object_id=user.id,
            fields=["locked"],
        )
        return LoginStep(None)
    if not password_ok:
        return _fail(user, "password")
    if needs_rehash(accounts.current_hasher(), stored):
        user.password_hash = hash_password(accounts.current_hasher(), password)
    return LoginStep(user, needs_enrollment=not user.has_mfa)


def totp_secret_of(user: User) -> str | None:
    if user.totp_secret_sealed is None:
        return None
    return open_account_secret(user.id, "totp_secret", user.totp_secret_sealed)


def start_enrollment(user: User) -> str:
    """The seed to enrol (made once and kept until confirmed, so a reload shows the same)."""
    if user.has_mfa:
        raise ValidationFailed(
            gettext("second factor already enrolled"), {"otp": [gettext("already enrolled")]}
        )
    secret = totp_secret_of(user)
    if secret is None:
        secret = totp.new_secret()
        user.totp_secret_sealed = seal_account_secret(user.id, "totp_secret", secret)
        record("mfa.enrollment_started", actor=user, object_type="user", object_id=user.id)
    return secret


def _accept_code(user: User, code: str) -> bool:
    secret = totp_secret_of(user)
    if secret is None:
        return False
    step = totp.matching_step(secret, code or "", user.last_totp_step)
    if step is None:
        return False
    user.last_totp_step = step
    return True


def confirm_enrollment(user: User, code: str) -> list[str] | None:
    """Confirm the seed with a first code; returns new recovery codes, or None on failure."""
    if user.has_mfa or not _accept_code(user, code):
        _fail(user, "otp")
        return None
    user.mfa_confirmed_at = utcnow()
    codes = issue_recovery_codes(user)
    record("mfa.enrolled", actor=user, object_type="user", object_id=user.id)
    return codes


def issue_recovery_codes(user: User) -> list[str]:
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    db.session.add_all(
        RecoveryCode(user_id=user.id, digest=totp.recovery_digest(code)) for code in codes
    )
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    found = db.session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.digest == totp.recovery_digest(code),
            RecoveryCode.used_at.is_(None),
        )
    ).first()
    if found is None:
        return False
    found.used_at = utcnow()
    record("mfa.recovery_code_used", actor=user, object_type="user", object_id=user.id)
    return True


def check_second_factor(user: User, code: str) -> bool:
    """Second login step: a fresh TOTP code, or an unused recovery code."""
    if not user.active or is_locked(user) or not user.has_mfa:
        _fail(user, "otp")
        return False
    code = (code or "").strip()
    accepted = _accept_code(user, code) if len(code) <= 8 else _use_recovery_code(user, code)
    if not accepted:
        _fail(user, "otp")
        return False
    return True


def complete_login(user: User) -> None:
    """The second factor was right: reset the failure count, sweep out expired sessions."""
    settings = accounts.current_settings()
    cutoff = utcnow() - timedelta(minutes=settings.session_idle_minutes)
    db.session.execute(delete(WebSession).where(WebSession.last_seen_at < cutoff))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    record("login.succeeded", actor=user, object_type="user", object_id=user.id)


def record_logout(user: User | None) -> None:
    record("logout", actor=user, object_type="user", object_id=getattr(user, "id", None))

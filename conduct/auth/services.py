"""Account services: creating and changing accounts, passwords, second-factor resets.

Every change is an audit event that names the account by id, never a password, code or seed.
The login steps are in :mod:`conduct.auth.login`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext
from sqlalchemy import func, select

from conduct.audit import record
from conduct.codes import ROLES
from conduct.core.db import db, utcnow
from conduct.core.errors import NotFound, ValidationFailed
from conduct.core.missions import Mission

from .models import RecoveryCode, User, UserMission, UserRole
from .passwords import (
    PasswordPolicyError,
    check_password_policy,
    hash_password,
    hasher_for,
    verify_password,
)
from .sessions import end_sessions_of

MAX_DISPLAY_NAME = 200


def current_settings():
    return current_app.extensions["conduct_settings"]


def current_hasher():
    """The password hasher for this deployment (tests use cheap costs)."""
    return hasher_for(current_settings().env)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == normalise_email(email))).first()


def _policy_checked(password: str, email: str, display_name: str) -> str:
    try:
        check_password_policy(password, email, display_name)
    except PasswordPolicyError as error:
        raise ValidationFailed(
            gettext("password: %(problem)s", problem=error), {"password": [str(error)]}
        ) from None
    return hash_password(current_hasher(), password)


def set_locale(user: User, locale: str) -> None:
    """Keep the language the account chose for its pages (checked by the caller)."""
    if user.locale != locale:
        user.locale = locale
        record(
            "user.locale",
            actor=user,
            object_type="user",
            object_id=user.id,
            fields=["locale"],
        )


def change_password(user: User, current: str, new: str, keep_session=None) -> None:
    """Change one's own password; every other session of the account ends."""
    if not verify_password(current_hasher(), user.password_hash, current or ""):
        record(
            "password.change", actor=user, outcome="failed", object_type="user", object_id=user.id
        )
        raise ValidationFailed(
            gettext("current password not accepted"),
            {"current_password": [gettext("not accepted")]},
        )
    user.password_hash = _policy_checked(new, user.email, user.display_name)
    user.password_changed_at = utcnow()
    end_sessions_of(user.id, keep=keep_session)
    record("password.change", actor=user, object_type="user", object_id=user.id)


def _check_roles_and_missions(roles: Iterable[str], missions: Iterable[str]) -> None:
    problems: dict[str, list[str]] = {}
    unknown_roles = sorted(set(roles) - set(ROLES))
    if not roles:
        problems["roles"] = [gettext("at least one role is needed")]
    elif unknown_roles:
        problems["roles"] = [gettext("unknown role: %(roles)s", roles=", ".join(unknown_roles))]
    known = set(db.session.scalars(select(Mission.code)))
    unknown_missions = sorted(set(missions) - known)
    if unknown_missions:
        problems["missions"] = [
            gettext("unknown mission: %(missions)s", missions=", ".join(unknown_missions))
        ]
    if problems:
        raise ValidationFailed.of(problems)


def create_user(
    actor,
    email: str,
    display_name: str,
    roles: Iterable[str],
    missions: Iterable[str] = (),
    password: str | None = None,
) -> User:
    """Create an account. Without a password it can only log in after an admin sets one."""
    email = normalise_email(email)
    roles, missions = sorted(set(roles)), sorted(set(missions))
    problems = {}
    if "@" not in email or len(email) > 254 or email.startswith("@"):
        problems["email"] = [gettext("not an email address")]
    elif find_user(email) is not None:
        problems["email"] = [gettext("an account with this email exists")]
    name_problem = _display_name_problem(display_name)
    if name_problem:
        problems["display_name"] = [name_problem]
    if problems:
        raise ValidationFailed.of(problems)
    _check_roles_and_missions(roles, missions)
    user = User(email=email, display_name=display_name.strip())
    if password is not None:
        user.password_hash = _policy_checked(password, email, display_name)
        user.password_changed_at = utcnow()
    user.role_rows = [UserRole(role=role) for role in roles]
    user.mission_rows = [UserMission(mission_code=code) for code in missions]
    db.session.add(user)
    db.session.flush()
    record(
        "user.create",
        actor=actor,
        object_type="user",
        object_id=user.id,
        fields=["email", "display_name", "roles", "missions"] + (["password"] if password else []),
    )
    return user


def _display_name_problem(display_name: str | None) -> str | None:
    name = (display_name or "").strip()
    if not name:
        return gettext("a name to show is needed")
    if len(name) > MAX_DISPLAY_NAME:
        return gettext("at most %(count)d characters", count=MAX_DISPLAY_NAME)
    return None


def _check_admins_remain(actor, user: User, new_roles: frozenset[str]) -> None:
    """Refuse to take the admin role from oneself or from the last active administrator."""
    if "admin" not in user.roles or "admin" in new_roles:
        return
    if actor is not None and actor.id == user.id:
        raise ValidationFailed.of({"roles": [gettext("you cannot remove your own admin role")]})
    other_admins = db.session.scalar(
        select(func.count())
        .select_from(UserRole)
        .join(User)
        .where(UserRole.role == "admin", User.active.is_(True), User.id != user.id)
    )
    if not other_admins:
        raise ValidationFailed.of({"roles": [gettext("this is the last active administrator")]})


def update_user(
    actor,
    user: User,
    *,
    display_name: str | None = None,
    roles: Iterable[str] | None = None,
    missions: Iterable[str] | None = None,
    password: str | None = None,
) -> None:
    """Change an account. Everything is checked before anything changes."""
    new_name = user.display_name if display_name is None else display_name.strip()
    new_roles = user.roles if roles is None else frozenset(roles)
    new_missions = user.missions if missions is None else frozenset(missions)
    name_problem = _display_name_problem(new_name)
    if name_problem:
        raise ValidationFailed.of({"display_name": [name_problem]})
    _check_roles_and_missions(new_roles, new_missions)
    _check_admins_remain(actor, user, new_roles)
    new_hash = _policy_checked(password, user.email, new_name) if password else None
    changed = []
    if new_name != user.display_name:
        user.display_name = new_name
        changed.append("display_name")
    if new_roles != user.roles:
        user.role_rows = [UserRole(role=role) for role in sorted(new_roles)]
        changed.append("roles")
    if new_missions != user.missions:
        user.mission_rows = [UserMission(mission_code=code) for code in sorted(new_missions)]
        changed.append("missions")
    if new_hash:
        user.password_hash = new_hash
        user.password_changed_at = utcnow()
        end_sessions_of(user.id)
        changed.append("password")
    if changed:
        db.session.flush()
        record("user.update", actor=actor, object_type="user", object_id=user.id, fields=changed)


def set_active(actor, user: User, active: bool) -> None:
    """Disable (ending every session) or re-enable an account."""
    if user.active == active:
        return
    user.active = active
    if not active:
        end_sessions_of(user.id)
    record(
        "user.enable" if active else "user.disable",
        actor=actor,
        object_type="user",
        object_id=user.id,
    )


def reset_mfa(actor, user: User) -> None:
    """Forget the second factor; the user enrols again at the next login. Sessions end."""
    user.totp_secret_sealed = None
    user.mfa_confirmed_at = None
    user.last_totp_step = None
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    end_sessions_of(user.id)
    record("mfa.reset", actor=actor, object_type="user", object_id=user.id)


def unlock(actor, user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None
    record("user.unlock", actor=actor, object_type="user", object_id=user.id)


def get_user(user_id) -> User:
    try:
        user = db.session.get(User, uuid.UUID(str(user_id)))
    except ValueError:
        user = None
    if user is None:
        raise NotFound(gettext("no such account"))
    return user


def all_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def load_user(user_id: str) -> User | None:
    """flask-login's user loader: active accounts only."""
    try:
        user = db.session.get(User, uuid.UUID(user_id))
    except (ValueError, TypeError):
        return None
    return user if user is not None and user.active else None

"""Services of the administration pages and commands: missions, and account steps with rules
that only apply when one person manages another's account.

Like every service these take the acting user explicitly (None from the command line), record
an audit event that holds ids and field names only, and never commit.
"""

from __future__ import annotations

import re

from flask_babel import gettext
from sqlalchemy import select

from conduct.audit import record
from conduct.core.db import db
from conduct.core.errors import NotFound, ValidationFailed
from conduct.core.missions import Mission

from . import services
from .models import User

MISSION_CODE = re.compile(r"^[A-Z]{2,16}$")
MISSION_NAME_LENGTH = 200


def list_accounts(actor) -> list[User]:
    """Every account, by email. Reading the list of staff is an access, so it is audited."""
    users = services.all_users()
    record("user.list", actor=actor, object_type="user")
    return users


def view_account(actor, user_id) -> User:
    """One account, for its management page (NotFound when the id names none)."""
    user = services.get_user(user_id)
    record("user.view", actor=actor, object_type="user", object_id=user.id)
    return user


def set_account_active(actor, user: User, active: bool) -> None:
    """Disable or enable an account; nobody disables the account they act with."""
    if not active and actor is not None and actor.id == user.id:
        raise ValidationFailed(
            gettext("you cannot disable your own account"),
            {"active": [gettext("not your own account")]},
        )
    services.set_active(actor, user, active)


def all_missions() -> list[Mission]:
    return list(db.session.scalars(select(Mission).order_by(Mission.code)))


def list_missions(actor) -> list[Mission]:
    """Every mission, by code, with the read audited like other administrative reads."""
    missions = all_missions()
    record("mission.list", actor=actor, object_type="mission")
    return missions


def get_mission(code: str) -> Mission:
    mission = db.session.get(Mission, code) if MISSION_CODE.match(code or "") else None
    if mission is None:
        raise NotFound(gettext("no such mission"))
    return mission


def _checked_mission(code: str, name: str) -> tuple[str, str]:
    """The code (upper-cased) and name, or ValidationFailed naming each problem."""
    code, name = (code or "").strip().upper(), (name or "").strip()
    problems: dict[str, list[str]] = {}
    if not MISSION_CODE.match(code):
        problems["code"] = [gettext("use 2 to 16 letters A to Z, nothing else")]
    elif db.session.get(Mission, code) is not None:
        problems["code"] = [gettext("a mission with this code exists")]
    if not name:
        problems["name"] = [gettext("a name is needed")]
    elif len(name) > MISSION_NAME_LENGTH:
        problems["name"] = [gettext("use at most %(count)d characters", count=MISSION_NAME_LENGTH)]
    if problems:
        raise ValidationFailed.of(problems)
    return code, name


def add_mission(actor, code: str, name: str) -> Mission:
    """Add an active mission. Its code is its id for good: cases and references carry it."""
    code, name = _checked_mission(code, name)
    mission = Mission(code=code, name=name, active=True)
    db.session.add(mission)
    db.session.flush()
    record(
        "mission.create",
        actor=actor,
        object_type="mission",
        object_id=mission.code,
        fields=["code", "name", "active"],
    )
    return mission


def set_mission_active(actor, mission: Mission, active: bool) -> None:
    """Mark a mission active or closed. A closed mission keeps its cases and its people."""
    if mission.active == active:
        return
    mission.active = active
    db.session.flush()
    record(
        "mission.update",
        actor=actor,
        object_type="mission",
        object_id=mission.code,
        fields=["active"],
    )

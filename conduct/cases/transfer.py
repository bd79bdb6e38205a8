"""Transferring a case to another mission (as at the UNAMID to UNITAMS transition).

The case keeps its reference, its data key and its whole history; each move is a CaseTransfer
row (from, to, when, by whom; the reason sealed with the case's key). Only the case team may
transfer a case; afterwards the case belongs to the new mission's scope.
"""

from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import select

from conduct.audit import record
from conduct.core.db import db
from conduct.core.errors import ValidationFailed
from conduct.core.missions import Mission

from . import services
from .models import Case, CaseTransfer

MAX_REASON_LENGTH = 4000


def transfer_case(actor, case: Case, mission_code: str, reason: str | None) -> CaseTransfer:
    """Move ``case`` to ``mission_code``, keeping its history. A reason is required."""
    services.check_may_change(actor, case)
    problems: dict[str, list[str]] = {}
    target = db.session.get(Mission, mission_code or "")
    if target is None:
        problems["mission"] = [gettext("unknown mission code")]
    elif target.code == case.mission_code:
        problems["mission"] = [gettext("the case already belongs to this mission")]
    reason = (reason or "").strip()
    if not reason:
        problems["reason"] = [gettext("say why the case moves")]
    elif len(reason) > MAX_REASON_LENGTH:
        problems["reason"] = [gettext("at most %(count)d characters", count=MAX_REASON_LENGTH)]
    if problems:
        raise ValidationFailed.of(problems)
    transfer = CaseTransfer(
        case=case,
        from_mission=case.mission_code,
        to_mission=target.code,
        by_user_id=getattr(actor, "id", None),
        reason=reason,
    )
    case.mission_code = target.code
    db.session.add(transfer)
    db.session.flush()
    record(
        "case.transfer",
        actor=actor,
        object_type="case",
        object_id=case.id,
        case=case,
        fields=["mission", "reason"],
    )
    return transfer


def mission_choices(case: Case) -> list[tuple[str, str]]:
    """The missions a case can move to (every other one, closed ones marked), for forms."""
    missions = db.session.scalars(select(Mission).order_by(Mission.code))
    return [
        (
            mission.code,
            mission.code if mission.active else gettext("%(code)s (closed)", code=mission.code),
        )
        for mission in missions
        if mission.code != case.mission_code
    ]

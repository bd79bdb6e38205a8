"""The case workflow: one transition table, and the service that moves a case along it.

The table (``MOVES``) says which status may follow which, the permission the move needs, whether
it needs a reason, and which facts must be on record first. Everything else reads the table:
the service that checks a move, ``allowed_moves`` for pages, and docs/workflow.md, which a test
keeps equal to ``workflow_markdown()``.

A reason is required for every closing move and every move backwards (to a status that comes
earlier in ``codes.STATUS``): those are the moves an auditor asks about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext

from conduct import codes
from conduct.audit import record
from conduct.core.db import db, utcnow
from conduct.core.errors import Forbidden, ValidationFailed, VersionConflict
from conduct.core.i18n import N_
from conduct.core.permissions import has_permission

from .access import can_change_case
from .models import Case, StatusChange

CLOSING_STATUSES = ("closed_other", "closed")
MEMBER_STATE_ENTITIES = ("member_state", "tcc_pcc_nio")
MAX_REASON_LENGTH = 5000


@dataclass(frozen=True)
class Requirement:
    """A fact that must be on record before a move; ``field`` names it in a refusal."""

    name: str
    field: str
    description: str
    is_met: Callable[[Case], bool]


def last_entered(case: Case, statuses) -> date | None:
    """The day the case last moved into one of ``statuses``, or None if its history has none."""
    moves = [change.at for change in case.history if change.to_status in statuses]
    return max(moves).date() if moves else None


def has_investigation_referral(case: Case) -> bool:
    return any(referral.purpose == "investigation" for referral in case.referrals)


def has_member_state_notice(case: Case) -> bool:
    return any(referral.entity in MEMBER_STATE_ENTITIES for referral in case.referrals)


def _findings_support(outcome: str) -> Callable[[Case], bool]:
    """Every subject has a finding, and the findings add up to ``outcome``.

    One substantiated subject makes the case substantiated; a case is not substantiated only
    when no subject's finding is substantiated and at least one is not substantiated.
    """

    def is_met(case: Case) -> bool:
        subjects = {person.id for person in case.persons if person.role == "subject"}
        decided = {finding.person_id: finding.finding for finding in case.findings}
        if not subjects or not subjects <= set(decided):
            return False
        outcomes = {decided[subject] for subject in subjects}
        if outcome == "substantiated":
            return "substantiated" in outcomes
        return "not_substantiated" in outcomes and "substantiated" not in outcomes

    return is_met


REQUIREMENTS = {
    requirement.name: requirement
    for requirement in (
        Requirement(
            "investigation_referral",
            "referrals",
            N_("a referral with purpose investigation"),
            has_investigation_referral,
        ),
        Requirement(
            "member_state_notice",
            "referrals",
            N_("a referral to the member state (entity member_state or tcc_pcc_nio)"),
            has_member_state_notice,
        ),
        Requirement(
            "substantiated_findings",
            "findings",
            N_("a finding for every subject, at least one of them substantiated"),
            _findings_support("substantiated"),
        ),
        Requirement(
            "not_substantiated_findings",
            "findings",
            N_(
                "a finding for every subject, at least one not substantiated and none substantiated"
            ),
            _findings_support("not_substantiated"),
        ),
    )
}


@dataclass(frozen=True)
class Move:
    """One allowed step of the workflow."""

    from_status: str
    to_status: str
    needs_reason: bool = False
    requires: tuple[str, ...] = ()
    permission: str = "case:transition"

    @property
    def is_closing(self) -> bool:
        return self.to_status in CLOSING_STATUSES

    @property
    def is_backwards(self) -> bool:
        order = codes.STATUS.codes
        return order.index(self.to_status) < order.index(self.from_status)


def _move(route: str, *requires: str, reason: bool = False) -> Move:
    start, end = route.split(" -> ")
    return Move(start, end, needs_reason=reason, requires=requires)


MOVES: tuple[Move, ...] = (
    # Intake: assess first, or refer at once when the report is clearly SEA.
    _move("received -> preliminary_assessment"),
    _move("received -> referred", "investigation_referral"),
    _move("received -> closed_other", reason=True),
    _move("preliminary_assessment -> referred", "investigation_referral"),
    _move("preliminary_assessment -> closed_other", reason=True),
    # Referred: the entity opens its investigation, the member state is asked to act, or the
    # referral goes back (declined, wrong entity).
    _move("referred -> under_investigation", "investigation_referral"),
    _move("referred -> pending_member_state", "member_state_notice"),
    _move("referred -> preliminary_assessment", reason=True),
    _move("referred -> closed_other", reason=True),
    # Investigation: an outcome, or a wait for the member state.
    _move("under_investigation -> pending_member_state", "member_state_notice"),
    _move("under_investigation -> substantiated", "substantiated_findings"),
    _move("under_investigation -> not_substantiated", "not_substantiated_findings"),
    _move("under_investigation -> closed_other", reason=True),
    _move("under_investigation -> referred", reason=True),
    _move("under_investigation -> preliminary_assessment", reason=True),
    # The member state answers: a finding, its own investigation goes on, or it ends otherwise.
    _move("pending_member_state -> substantiated", "substantiated_findings"),
    _move("pending_member_state -> not_substantiated", "not_substantiated_findings"),
    _move("pending_member_state -> under_investigation", "investigation_referral", reason=True),
    _move("pending_member_state -> closed_other", reason=True),
    # Outcomes: closed once actions are done, or reopened on new evidence or appeal.
    _move("substantiated -> closed", reason=True),
    _move("substantiated -> under_investigation", "investigation_referral", reason=True),
    _move("not_substantiated -> closed", reason=True),
    _move("not_substantiated -> under_investigation", "investigation_referral", reason=True),
    _move("closed_other -> closed", reason=True),
    _move("closed_other -> preliminary_assessment", reason=True),
)

_BY_ROUTE = {(move.from_status, move.to_status): move for move in MOVES}


def find_move(from_status: str | None, to_status: str) -> Move | None:
    return _BY_ROUTE.get((from_status, to_status))


def allowed_moves(case: Case) -> list[Move]:
    """The moves the table allows from the case's status, in table order (for pages)."""
    return [move for move in MOVES if move.from_status == case.status]


def missing_requirements(case: Case, move: Move) -> list[Requirement]:
    """The requirements of ``move`` not yet on record for ``case``."""
    return [REQUIREMENTS[name] for name in move.requires if not REQUIREMENTS[name].is_met(case)]


def check_may_transition(actor, case: Case) -> None:
    """Object rule: only the case's team moves it along the workflow (403 otherwise)."""
    if not has_permission(actor, "case:transition") or not can_change_case(actor, case):
        raise Forbidden(
            gettext("only the case team may move the case along the workflow"), case=case
        )


def _label(status: str | None) -> str:
    return "(none)" if status is None else status


def _check_move(actor, case: Case, to: str, reason: str | None) -> Move:
    """The move from the case's status to ``to``, or the refusal saying what is wrong."""
    move = find_move(case.status, to)
    if move is None:
        allowed = ", ".join(m.to_status for m in allowed_moves(case)) or gettext(
            "none (the case is final)"
        )
        message = gettext(
            "a case in status %(status)s cannot move to %(to)s", status=_label(case.status), to=to
        )
        problem = gettext(
            "%(message)s; allowed next statuses: %(allowed)s", message=message, allowed=allowed
        )
        raise ValidationFailed(message, {"to": [problem]})
    if not has_permission(actor, move.permission):
        raise Forbidden(
            gettext(
                "moving to %(to)s needs the %(permission)s permission",
                to=to,
                permission=move.permission,
            ),
            case=case,
        )
    problems: dict[str, list[str]] = {}
    if move.needs_reason and not reason:
        problems["reason"] = [
            gettext(
                "moving from %(origin)s to %(to)s needs a reason", origin=move.from_status, to=to
            )
        ]
    for requirement in missing_requirements(case, move):
        problems.setdefault(requirement.field, []).append(
            gettext("moving to %(to)s needs %(what)s", to=to, what=gettext(requirement.description))
        )
    if problems:
        raise ValidationFailed.of(problems)
    return move


def transition_case(
    actor, case: Case, to: str, reason: str | None = None, *, version: int | None = None
) -> StatusChange:
    """Move ``case`` to status ``to`` if the table allows it, recording the step and audit event.

    Only the case team may do it. ``version``, when given, must be the case's current version
    (409 otherwise). The audit event names the fields changed (``status``, and ``reason`` when
    one was given), never their values.
    """
    check_may_transition(actor, case)
    if version is not None and version != case.version:
        raise VersionConflict(
            gettext("the case changed since you read it"),
            {"version": [gettext("stale version")]},
            case=case,
        )
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise ValidationFailed.of(
            {"reason": [gettext("at most %(count)d characters", count=MAX_REASON_LENGTH)]}
        )
    move = _check_move(actor, case, to, reason)
    change = StatusChange(
        case=case,
        from_status=move.from_status,
        to_status=move.to_status,
        reason=reason,
        at=utcnow(),
        by_user_id=getattr(actor, "id", None),
    )
    case.status = move.to_status
    db.session.add(change)
    db.session.flush()
    record(
        "case.transition",
        actor=actor,
        object_type="case",
        object_id=case.id,
        case=case,
        fields=["status", "reason"] if reason else ["status"],
    )
    return change


def workflow_markdown() -> str:
    """The transition table as Markdown, for docs/workflow.md (a test keeps the two equal)."""
    lines = [
        "| from | to | permission | reason | requires |",
        "| --- | --- | --- | --- | --- |",
    ]
    for move in MOVES:
        needs = "; ".join(REQUIREMENTS[name].description for name in move.requires) or "-"
        reason = "required" if move.needs_reason else "optional"
        lines.append(
            f"| {move.from_status} | {move.to_status} | {move.permission} | {reason} | {needs} |"
        )
    return "\n".join(lines) + "\n"

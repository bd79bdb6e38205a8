"""The workflow JSON API: move a case along the transition table, and read its deadlines."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import Schema, fields, validate

from conduct import codes
from conduct.audit import record
from conduct.core.db import utcnow
from conduct.core.permissions import requires

from . import services
from .deadlines import DeadlineRules, overdue, upcoming
from .schemas import StatusChangeOut
from .workflow import MAX_REASON_LENGTH, check_may_transition, transition_case

blueprint = Blueprint("cases_workflow_api", __name__, url_prefix="/api/v1/cases")

# What a deadline answer is computed from, for the audit event of the read.
DEADLINE_FIELDS = (
    "status",
    "received_on",
    "history.to",
    "history.at",
    "referrals.purpose",
    "referrals.entity",
    "referrals.referred_on",
    "referrals.acknowledged_on",
)


class TransitionIn(Schema):
    to = fields.String(required=True, validate=validate.OneOf(codes.STATUS.codes))
    reason = fields.String(load_default=None, validate=validate.Length(max=MAX_REASON_LENGTH))
    version = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1))


class OverdueOut(Schema):
    kind = fields.String()
    due_on = fields.Date()
    days_overdue = fields.Integer()


class DeadlineOut(Schema):
    kind = fields.String()
    due_on = fields.Date()


@blueprint.post("/<reference>/transitions")
@requires("case:transition")
def create_transition(reference: str):
    """Move a case to the status ``to``; answers the new history item, status and version."""
    case = services.find_case(g.actor, reference)
    check_may_transition(g.actor, case)
    body = TransitionIn().load(request.get_json(silent=True) or {})
    change = transition_case(g.actor, case, body["to"], body["reason"], version=body["version"])
    answer = {
        "transition": StatusChangeOut().dump(change),
        "status": case.status,
        "version": case.version,
    }
    return jsonify(answer), 201


@blueprint.get("/<reference>/deadlines")
@requires("case:read")
def get_deadlines(reference: str):
    """The case's overdue items and its next due dates (dates and kinds only, no identities)."""
    case = services.find_case(g.actor, reference)
    settings = current_app.extensions["conduct_settings"]
    rules = DeadlineRules.from_settings(settings)
    today = utcnow().date()
    record(
        "case.deadlines",
        actor=g.actor,
        object_type="case",
        object_id=case.id,
        case=case,
        fields=DEADLINE_FIELDS,
    )
    return jsonify(
        {
            "reference": case.reference,
            "today": today.isoformat(),
            "overdue": OverdueOut(many=True).dump(overdue(case, today, rules)),
            "upcoming": DeadlineOut(many=True).dump(upcoming(case, today, rules)),
        }
    )

"""The workflow JSON API: move a case along the transition table, and read its deadlines."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from conduct.audit import record
from conduct.core.api_docs import documented
from conduct.core.db import utcnow
from conduct.core.permissions import requires

from . import services
from .deadlines import FIELDS as DEADLINE_FIELDS
from .deadlines import DeadlineRules, all_overdue, all_upcoming
from .schemas import DeadlinesOut, TransitionIn, TransitionOut
from .workflow import check_may_transition, transition_case

blueprint = Blueprint("cases_workflow_api", __name__, url_prefix="/api/v1/cases")


@blueprint.post("/<reference>/transitions")
@documented(body=TransitionIn, answer=TransitionOut, status=201, errors=(409,))
@requires("case:transition")
def create_transition(reference: str):
    """Move a case to the status ``to``; answers the new history item, status and version.

    ``reason`` is required for closing moves and moves backwards; ``version``, when sent, must
    be the case's current version (409 otherwise). The allowed moves are in docs/workflow.md.
    """
    case = services.find_case(g.actor, reference)
    check_may_transition(g.actor, case)
    body = TransitionIn().load(request.get_json(silent=True) or {})
    change = transition_case(g.actor, case, body["to"], body["reason"], version=body["version"])
    answer = {"transition": change, "status": case.status, "version": case.version}
    return jsonify(TransitionOut().dump(answer)), 201


@blueprint.get("/<reference>/deadlines")
@documented(answer=DeadlinesOut)
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
    answer = {
        "reference": case.reference,
        "today": today,
        "overdue": all_overdue(case, today, rules),
        "upcoming": all_upcoming(case, today, rules),
    }
    return jsonify(DeadlinesOut().dump(answer))

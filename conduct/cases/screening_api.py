"""The screening JSON API: POST /api/v1/screening answers ``{"match": true|false}`` and no more.

Beside it, the same blind indexes tell a case team where else a subject appears in their scope.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from conduct.core.api_docs import documented
from conduct.core.permissions import requires

from . import services
from .items import person_of
from .schemas import OtherCasesOut, ScreeningOut, ScreeningQuerySchema
from .screening import other_cases_in_scope, screen

blueprint = Blueprint("screening_api", __name__, url_prefix="/api/v1")


@blueprint.post("/screening")
@documented(body=ScreeningQuerySchema, answer=ScreeningOut)
@requires("screening:query")
def screen_person():
    """Whether the person has a substantiated SEA record: yes or no, nothing else.

    Give exactly one form: ``personnel_number``, or ``full_name`` with ``date_of_birth``.
    """
    query = ScreeningQuerySchema().load(request.get_json(silent=True) or {})
    return jsonify(ScreeningOut().dump({"match": screen(g.actor, **query)}))


@blueprint.get("/cases/<reference>/persons/<person_id>/other-cases")
@documented(answer=OtherCasesOut)
@requires("case:read_identity")
def other_cases(reference: str, person_id: str):
    """References of other cases of the user's scope where this person appears as a subject;
    for the case team only, found by blind index without opening any other case."""
    person = person_of(services.find_case(g.actor, reference), person_id)
    answer = {"person_id": person.id, "other_cases": other_cases_in_scope(g.actor, person)}
    return jsonify(OtherCasesOut().dump(answer))

"""The screening JSON API: POST /api/v1/screening answers ``{"match": true|false}`` and no more.

Beside it, the same blind indexes tell a case team where else a subject appears in their scope.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from marshmallow import Schema, fields, validate

from conduct.core.permissions import requires

from . import services
from .items import person_of
from .screening import other_cases_in_scope, screen

blueprint = Blueprint("screening_api", __name__, url_prefix="/api/v1")


class ScreeningQuerySchema(Schema):
    """One identifier form: ``personnel_number``, or ``full_name`` with ``date_of_birth``.

    Types and lengths are checked here; which combination is allowed is the service's rule,
    so every caller gets the same answer.
    """

    personnel_number = fields.String(validate=validate.Length(min=1, max=64))
    full_name = fields.String(validate=validate.Length(min=1, max=300))
    date_of_birth = fields.Date()


@blueprint.post("/screening")
@requires("screening:query")
def screen_person():
    """Whether the person has a substantiated SEA record: yes or no, nothing else."""
    query = ScreeningQuerySchema().load(request.get_json(silent=True) or {})
    return jsonify(match=screen(g.actor, **query))


@blueprint.get("/cases/<reference>/persons/<person_id>/other-cases")
@requires("case:read_identity")
def other_cases(reference: str, person_id: str):
    """References of other cases of the user's scope where this person appears as a subject;
    for the case team only, found by blind index without opening any other case."""
    person = person_of(services.find_case(g.actor, reference), person_id)
    return jsonify(person_id=str(person.id), other_cases=other_cases_in_scope(g.actor, person))

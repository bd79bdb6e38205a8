"""The screening JSON API: POST /api/v1/screening answers ``{"match": true|false}`` and no more."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from marshmallow import Schema, fields, validate

from conduct.core.permissions import requires

from .screening import screen

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

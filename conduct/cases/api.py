"""The cases JSON API under /api/v1/cases."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from conduct.core.permissions import requires

from . import services
from .schemas import case_schema

blueprint = Blueprint("cases_api", __name__, url_prefix="/api/v1/cases")


@blueprint.get("/<reference>")
@requires("case:read")
def get_case(reference: str):
    """One case, with identities for the case team and redacted for other officers."""
    case, identities = services.read_case(g.actor, reference)
    return jsonify(case_schema(identities).dump(case))

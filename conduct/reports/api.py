"""The reports JSON API: ``GET /api/v1/reports/{table}?by=...&year=...`` (brief section 6)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from conduct.core.permissions import requires

from . import services
from .schemas import ReportQuery, query_arguments

blueprint = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports")


@blueprint.get("/<table>")
@requires("report:view")
def get_report(table: str):
    """One table by one or two dimensions, optionally for one year; suppressed cells have
    ``"count": null, "suppressed": true``."""
    services.table_spec(table)
    query = ReportQuery().load(query_arguments(request.args))
    return jsonify(services.report_answer(g.actor, table, query["by"], query["year"]))

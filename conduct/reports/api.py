"""The reports JSON API: ``GET /api/v1/reports/{table}?by=...&year=...`` (brief section 6)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from conduct.core.api_docs import documented
from conduct.core.permissions import requires

from . import services
from .schemas import ReportOut, ReportPath, ReportQuery

blueprint = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports")


@blueprint.get("/<table>")
@documented(query=ReportQuery, path=ReportPath, answer=ReportOut)
@requires("report:view")
def get_report(table: str):
    """One statistics table by one or two dimensions, optionally for one year.

    Suppressed cells have ``"count": null, "suppressed": true``; no combination of answers
    reveals them (docs/statistics.md). Each answer is audited (``report.view``).
    """
    query = services.requested_answer(table, request.args)
    answer = services.report_answer(g.actor, table, query["by"], query["year"])
    return jsonify(ReportOut().dump(answer))

"""Report pages for leadership: a table, its chart and a CSV export (``/reports``).

Thin views: the query is parsed with the API's schema and answered by the same service, so a
page, a chart and an export are audited like an API answer. Bad input shows the form again
with a message (400), after recording the refusal.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from marshmallow import ValidationError

from conduct.core.errors import ValidationFailed
from conduct.core.i18n import N_, translate_problems
from conduct.core.permissions import permissions_of, requires
from conduct.core.web import record_refusal

from . import charts, services
from .schemas import ReportQuery, query_arguments
from .tables import TABLES, YEAR
from .timeliness import MEASURES

blueprint = Blueprint("reports", __name__, url_prefix="/reports")

TITLES = {
    "allegations": N_("Allegations (reports received)"),
    "victims": N_("Victims"),
    "subjects": N_("Subjects (alleged perpetrators)"),
    "timeliness": N_("Timeliness"),
}
# SVG drawn by pygal styles itself with an inline style sheet; it is served as an image and
# holds no script, so its own policy allows inline styles and nothing else.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def _query(table: str) -> tuple[dict, dict]:
    """The parsed query (``by`` defaults to the table's first dimension), or the problems."""
    arguments = query_arguments(request.args)
    arguments.setdefault("by", [TABLES[table].dimensions[0]])
    try:
        return ReportQuery().load(arguments), {}
    except ValidationError as error:
        messages = error.normalized_messages()
        return {}, messages if isinstance(messages, dict) else {"_schema": messages}


@blueprint.get("/")
@requires("report:view")
def index():
    titles = {name: gettext(title) for name, title in TITLES.items()}
    return render_template(
        "reports/index.html",
        tables=TABLES,
        titles=titles,
        dimension_titles=charts.DIMENSION_TITLES,
    )


@blueprint.get("/<table>")
@requires("report:view")
def show(table: str):
    """The table by the chosen dimensions, as a chart and as an accessible data table."""
    spec = services.table_spec(table)
    query, problems = _query(table)
    answer = None
    if not problems:
        try:
            answer = services.report_answer(g.actor, table, query["by"], query["year"])
        except ValidationFailed as error:
            problems = error.fields
    if problems:
        record_refusal("invalid", problems)
    context = {
        "spec": spec,
        "title": gettext(TITLES[table]),
        "answer": answer,
        "errors": translate_problems(problems),
        "chosen": query or {"by": request.args.getlist("by"), "year": None},
        "label": charts.label,
        "dimension_titles": charts.DIMENSION_TITLES,
        "measures": [m for m in MEASURES if answer and answer["rows"] and m in answer["rows"][0]],
        "measure_titles": {name: gettext(title) for name, title in charts.MEASURE_TITLES.items()},
        "can_export": "report:export" in permissions_of(current_user.roles),
        "arguments": _arguments(query),
        "year_dimension": YEAR,
    }
    return render_template("reports/table.html", **context), 400 if problems else 200


def _arguments(query: dict) -> dict:
    if not query:
        return {}
    arguments = {"by": ",".join(query["by"])}
    if query["year"] is not None:
        arguments["year"] = query["year"]
    return arguments


@blueprint.get("/<table>/chart.svg")
@requires("report:view")
def chart(table: str):
    """The chart of the same answer, as SVG from our own origin."""
    query = services.requested_answer(table, request.args)
    answer = services.report_answer(g.actor, table, query["by"], query["year"], shown_as="chart")
    measure = "median_days_to_referral" if table == "timeliness" else "count"
    title = gettext(TITLES[table]) + (f", {query['year']}" if query["year"] else "")
    response = Response(charts.bar_chart(answer, title, measure), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    return response


@blueprint.get("/<table>/export.csv")
@requires("report:export")
def export(table: str):
    """The same answer as CSV (``report:export``)."""
    query = services.requested_answer(table, request.args)
    body = services.report_csv(g.actor, table, query["by"], query["year"])
    name = "-".join([table, *query["by"], *([str(query["year"])] if query["year"] else [])])
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@blueprint.app_template_global()
def report_url(endpoint: str, table: str, arguments: dict) -> str:
    return url_for(f"reports.{endpoint}", table=table, **arguments)

"""The auditor workspace's JSON API under /api/v1/audit: events, a case's access, flags, CSV.

Every answer here is itself audited (see conduct/audit/workspace.py).
"""

from __future__ import annotations

from dataclasses import asdict

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    request,
    url_for,
)

from conduct.core.api_docs import documented
from conduct.core.permissions import requires

from . import flags, workspace
from .schemas import (
    CaseAccessOut,
    EventPageOut,
    EventQuery,
    FlagQuery,
    FlagReportOut,
    check_reference,
)

blueprint = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit")


def _query(schema) -> dict:
    return schema.load(request.args.to_dict())


@blueprint.get("/events")
@documented(query=EventQuery, answer=EventPageOut)
@requires("audit:read")
def list_events():
    """Audit events matching the filters, newest first, one keyset page at a time.

    ``actor`` is an account id or an email; ``case`` a reference or a case id; ``action`` a
    name or a prefix ending in ``.``; ``since`` and ``until`` ISO dates or datetimes (UTC),
    inclusive. Send ``next_cursor`` back as ``cursor`` for the next page. Audited.
    """
    query = _query(EventQuery())
    page = workspace.list_events(g.actor, query)
    next_url = None
    if page.next_cursor is not None:
        arguments = {**request.args.to_dict(), "cursor": page.next_cursor}
        next_url = url_for("audit_api.list_events", **arguments)
    answer = {**asdict(page), "next": next_url}
    return jsonify(EventPageOut().dump(answer))


@blueprint.get("/events.csv")
@documented(query=EventQuery, answer={"type": "string"}, media_type="text/csv")
@requires("audit:export")
def export_events():
    """Every event matching the filters, newest first, streamed as CSV with a header row.

    The same filters as the list (``cursor`` and ``per_page`` are ignored). Audited before the
    first row.
    """
    lines = workspace.export_events(g.actor, _query(EventQuery()))
    response = Response(_in_app_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
    return response


def _in_app_context(lines):
    """Run the rows' generator in an application context of its own.

    The rows are read after the request has committed and ended; a generator that is never
    read holds no context (``stream_with_context`` would keep the request's pushed until the
    generator is collected, wherever that happens).
    """
    app = current_app._get_current_object()

    def generate():
        with app.app_context():
            yield from lines

    return generate()


@blueprint.get("/cases/<reference>/access")
@documented(answer=CaseAccessOut)
@requires("audit:read")
def case_access(reference: str):
    """Who accessed one case: every account with its first and last access and counts."""
    access = workspace.case_access(g.actor, check_reference(reference))
    return jsonify(CaseAccessOut().dump(access))


@blueprint.get("/flags")
@documented(query=FlagQuery, answer=FlagReportOut)
@requires("audit:read")
def list_flags():
    """Unusual access over a period (default: the last days set in the settings).

    Kinds: ``many_cases``, ``outside_missions``, ``denials``, ``unusual_hours``, ``exports``.
    Each flag names the account, the time range, the event ids and the event list's URL.
    """
    settings = current_app.extensions["conduct_settings"]
    report = flags.find_flags(g.actor, _query(FlagQuery()), settings)
    items = [
        {**asdict(flag), "events_url": url_for("audit_api.list_events", **flag.filters)}
        for flag in report.flags
    ]
    answer = {"since": report.since, "until": report.until, "flags": items}
    return jsonify(FlagReportOut().dump(answer))

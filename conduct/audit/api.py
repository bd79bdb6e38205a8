"""The auditor workspace's JSON API under /api/v1/audit: events, a case's access, flags, CSV.

Every answer here is itself audited (see conduct/audit/workspace.py).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    request,
    stream_with_context,
    url_for,
)

from conduct.core.permissions import requires

from . import flags, workspace
from .schemas import (
    CaseAccessOut,
    EventOut,
    EventQuery,
    FlagOut,
    FlagQuery,
    check_reference,
)

blueprint = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit")


def _query(schema) -> dict:
    return schema.load(request.args.to_dict())


@blueprint.get("/events")
@requires("audit:read")
def list_events():
    """Events matching the filters, newest first, one keyset page at a time."""
    query = _query(EventQuery())
    page = workspace.list_events(g.actor, query)
    next_url = None
    if page.next_cursor is not None:
        arguments = {**request.args.to_dict(), "cursor": page.next_cursor}
        next_url = url_for("audit_api.list_events", **arguments)
    return jsonify(
        items=EventOut(many=True).dump(page.items),
        per_page=page.per_page,
        next_cursor=page.next_cursor,
        next=next_url,
    )


@blueprint.get("/events.csv")
@requires("audit:export")
def export_events():
    """The same filters as the list, every matching event, streamed as CSV."""
    lines = workspace.export_events(g.actor, _query(EventQuery()))
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
    return response


@blueprint.get("/cases/<reference>/access")
@requires("audit:read")
def case_access(reference: str):
    """Who accessed one case: every account with its first and last access and counts."""
    access = workspace.case_access(g.actor, check_reference(reference))
    return jsonify(CaseAccessOut().dump(access))


@blueprint.get("/flags")
@requires("audit:read")
def list_flags():
    """Unusual access over a period (default the last days set in the settings)."""
    settings = current_app.extensions["conduct_settings"]
    report = flags.find_flags(g.actor, _query(FlagQuery()), settings)
    items = [
        {**FlagOut().dump(flag), "events_url": url_for("audit_api.list_events", **flag.filters)}
        for flag in report.flags
    ]
    return jsonify(
        since=report.since.isoformat(),
        until=None if report.until is None else report.until.isoformat(),
        flags=items,
    )

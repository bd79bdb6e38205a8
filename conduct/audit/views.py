"""The auditor workspace pages under /audit: the event list with its filter form, a case's
access, the unusual-access flags, and the CSV download link for those who may export.

Filters travel in the query string (GET forms, nothing to protect with a CSRF token). Bad
filters answer 400 with the form again and each problem next to its field, after auditing the
refusal by field name.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from conduct.core.errors import ValidationFailed
from conduct.core.i18n import N_, translate_problems
from conduct.core.permissions import requires
from conduct.core.web import record_refusal

from . import flags, workspace
from .schemas import FLAG_KINDS, CaseLookupQuery, EventQuery, FlagQuery, check_reference

blueprint = Blueprint("audit", __name__, url_prefix="/audit")

# Outcomes and flag kinds stay codes in the log and in the filters; the pages name them.
OUTCOME_LABELS = {
    "success": N_("success"),
    "denied": N_("denied"),
    "failed": N_("failed"),
    "invalid": N_("invalid"),
}
FLAG_KIND_LABELS = {
    "many_cases": N_("many cases"),
    "outside_missions": N_("outside missions"),
    "denials": N_("denials"),
    "unusual_hours": N_("unusual hours"),
    "exports": N_("exports"),
}


@blueprint.context_processor
def _labels() -> dict:
    return {"outcome_labels": OUTCOME_LABELS, "flag_kind_labels": FLAG_KIND_LABELS}


def _load(schema) -> tuple[dict | None, dict]:
    """The loaded query, or None and the problems by field name."""
    try:
        return schema.load(request.args.to_dict()), {}
    except ValidationError as error:
        problems = error.normalized_messages()
        return None, problems if isinstance(problems, dict) else {"_schema": problems}


def _refused(template: str, problems: dict, **context):
    record_refusal("invalid", problems)
    errors = translate_problems(problems)
    return render_template(template, errors=errors, form=request.args, **context), 400


@blueprint.get("")
@requires("audit:read")
def index():
    return redirect(url_for("audit.events"))


@blueprint.get("/events")
@requires("audit:read")
def events():
    template = "audit/events.html"
    query, problems = _load(EventQuery())
    if query is None:
        return _refused(template, problems, page=None)
    try:
        page = workspace.list_events(g.actor, query)
    except ValidationFailed as error:
        return _refused(template, error.fields, page=None)
    filters = {
        name: value
        for name, value in request.args.items()
        if name in workspace.FILTER_NAMES and value
    }
    return render_template(template, errors={}, form=request.args, page=page, filters=filters)


@blueprint.get("/cases")
@requires("audit:read")
def case_lookup():
    """Ask for a case reference, then show that case's access page."""
    template = "audit/case_lookup.html"
    if not request.args:
        return render_template(template, errors={}, form={})
    query, problems = _load(CaseLookupQuery())
    if query is None:
        return _refused(template, problems)
    return redirect(url_for("audit.case_access", reference=query["reference"]))


@blueprint.get("/cases/<reference>")
@requires("audit:read")
def case_access(reference: str):
    access = workspace.case_access(g.actor, check_reference(reference))
    return render_template("audit/case_access.html", access=access)


@blueprint.get("/flags")
@requires("audit:read")
def flag_list():
    template = "audit/flags.html"
    query, problems = _load(FlagQuery())
    if query is None:
        return _refused(template, problems, report=None, kinds=FLAG_KINDS)
    settings = current_app.extensions["conduct_settings"]
    report = flags.find_flags(g.actor, query, settings)
    return render_template(template, errors={}, form=request.args, report=report, kinds=FLAG_KINDS)

"""The case team's forms for a case's items: persons, referrals and their answers, workflow
moves, interim measures and findings. Each uses the JSON API's schema and service.

Every form page is for the case team (403 for other officers, 404 outside the mission), like
the change it leads to, and records the read of what it shows.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from conduct import codes
from conduct.core.errors import VersionConflict
from conduct.core.i18n import code_label
from conduct.core.permissions import requires

from . import items, services
from .forms import (
    FindingForm,
    MeasureForm,
    PersonForm,
    ReferralAnswerForm,
    ReferralForm,
    TransitionForm,
    choices,
)
from .items_api import FindingCreate, MeasureCreate, ReferralChange, ReferralCreate
from .pages import blueprint, refuse, submit
from .schemas import PersonCreate, TransitionIn
from .workflow import allowed_moves, check_may_transition, missing_requirements, transition_case

REFERRAL_FIELDS = (
    "purpose",
    "entity",
    "referred_on",
    "due_on",
    "consent",
    "override_reason",
    "details",
)
SUBJECT_FIELDS = ["persons.role", "persons.full_name", "findings.person_id"]
WORKFLOW_FIELDS = [
    "status",
    "version",
    "persons.role",
    "referrals.purpose",
    "referrals.entity",
    "findings.person_id",
    "findings.finding",
]


def _back(case, anchor: str, message: str):
    flash(message)
    return redirect(url_for("cases.view_case", reference=case.reference, _anchor=anchor))


def _form_page(reference: str, fields: list[str], template: str, form, prepare=None):
    """GET: the form of one item, for the case team; the read of what it shows is audited.

    ``prepare(case, form)`` fills the choices that depend on the case and may return more of
    the page's context."""
    case = services.read_case_to_change(g.actor, reference, fields)
    extra = prepare(case, form) if prepare is not None else None
    return render_template(template, form=form, case=case, errors={}, **(extra or {}))


def _shown_again(case, fields: list[str], template: str, form, prepare=None):
    """For :func:`submit`: the form page again, its read audited after the refusal."""

    def show():
        services.record_read(g.actor, case, fields)
        extra = prepare(case, form) if prepare is not None else None
        return template, {"case": case, **(extra or {})}

    return show


# Persons


@blueprint.route("/<reference>/persons/new", methods=["GET", "POST"])
@requires("case:update")
def add_person(reference: str):
    """Link a victim, subject, witness or reporter to the case."""
    template = "cases/person.html"
    if request.method == "GET":
        return _form_page(reference, [], template, PersonForm())
    case = services.find_case_to_change(g.actor, reference)

    def added(data):
        items.add_person(g.actor, case, data)
        return _back(case, "persons", gettext("Person added."))

    show = _shown_again(case, [], template, PersonForm())
    return submit(PersonForm(), PersonCreate(), services.PERSON_FIELDS, added, show, case=case)


# Referrals


@blueprint.route("/<reference>/referrals/new", methods=["GET", "POST"])
@requires("case:update")
def add_referral(reference: str):
    """Refer the case: to investigators, or to victim assistance with consent or an override."""
    template = "cases/referral.html"
    if request.method == "GET":
        return _form_page(reference, [], template, ReferralForm())
    case = services.find_case_to_change(g.actor, reference)

    def added(data):
        items.add_referral(g.actor, case, data)
        return _back(case, "referrals", gettext("Referral recorded."))

    show = _shown_again(case, [], template, ReferralForm())
    return submit(ReferralForm(), ReferralCreate(), REFERRAL_FIELDS, added, show, case=case)


@blueprint.post("/<reference>/referrals/<item_id>")
@requires("case:update")
def answer_referral(reference: str, item_id: str):
    """Record a referral's acknowledgement or its new status."""
    case = services.find_case_to_change(g.actor, reference)
    form = ReferralAnswerForm()

    def answered(data):
        items.update_referral(g.actor, case, item_id, data)
        return _back(case, "referrals", gettext("Referral updated."))

    def show():
        return "cases/referral_answer.html", {"case": case, "item_id": item_id}

    names = ("acknowledged_on", "status")
    return submit(form, ReferralChange(), names, answered, show, case=case)


# Workflow


def _offer_moves(case, form) -> dict:
    """Only the moves the transition table allows from the case's status, and what each
    still needs (for the page)."""
    moves = allowed_moves(case)
    form.to.choices = choices(
        (move.to_status, code_label(move.to_status, codes.STATUS)) for move in moves
    )
    form.version.data = str(case.version)
    offered = [
        {
            "to": move.to_status,
            "needs_reason": move.needs_reason,
            "missing": [need.description for need in missing_requirements(case, move)],
        }
        for move in moves
    ]
    return {"moves": offered}


@blueprint.route("/<reference>/transition", methods=["GET", "POST"])
@requires("case:transition")
def move_case(reference: str):
    """Move the case along the workflow; a reason where the table asks for one."""
    template = "cases/transition.html"
    case = services.find_case(g.actor, reference)
    check_may_transition(g.actor, case)
    form = TransitionForm()
    if request.method == "GET":
        services.record_read(g.actor, case, WORKFLOW_FIELDS)
        moves = _offer_moves(case, form)
        return render_template(template, form=form, case=case, errors={}, **moves)
    try:
        version = int(form.version.data or "")
    except ValueError:
        version = None

    def moved(data):
        transition_case(g.actor, case, data["to"], data["reason"], version=data["version"])
        status = code_label(case.status, codes.STATUS)
        return _back(case, "history", gettext("Case moved to %(status)s.", status=status))

    show = _shown_again(case, WORKFLOW_FIELDS, template, form, _offer_moves)
    names, extra = ("to", "reason"), {"version": version}
    try:
        return submit(form, TransitionIn(), names, moved, show, case=case, extra=extra)
    except VersionConflict:
        problems = {
            "version": [gettext("the case changed since you read it: check its status again")]
        }
        return refuse(problems, case, show, status=409, form=form)


# Interim measures and findings


def _subjects(case, *, without_finding: bool = False) -> list[tuple[str, str]]:
    """(id, label) of the case's subjects; the labels name them (the form is the team's)."""
    decided = {finding.person_id for finding in case.findings} if without_finding else set()
    subjects = [p for p in case.persons if p.role == "subject" and p.id not in decided]
    return [
        (
            str(person.id),
            gettext(
                "Subject %(number)d: %(name)s",
                number=number,
                name=person.full_name or gettext("(no name recorded)"),
            ),
        )
        for number, person in enumerate(subjects, start=1)
    ]


def _offer_measure_subjects(case, form) -> None:
    form.person_id.choices = choices([("", gettext("(the case as a whole)")), *_subjects(case)])


def _offer_finding_subjects(case, form) -> None:
    form.person_id.choices = choices(_subjects(case, without_finding=True))


@blueprint.route("/<reference>/measures/new", methods=["GET", "POST"])
@requires("case:update")
def add_measure(reference: str):
    """Record an interim measure, on a subject or on the case as a whole."""
    template = "cases/measure.html"
    form = MeasureForm()
    if request.method == "GET":
        return _form_page(reference, SUBJECT_FIELDS, template, form, _offer_measure_subjects)
    case = services.find_case_to_change(g.actor, reference)

    def added(data):
        items.add_measure(g.actor, case, data)
        return _back(case, "measures", gettext("Interim measure recorded."))

    show = _shown_again(case, SUBJECT_FIELDS, template, form, _offer_measure_subjects)
    names = ("person_id", "type", "started_on", "ended_on")
    return submit(form, MeasureCreate(), names, added, show, case=case)


@blueprint.route("/<reference>/findings/new", methods=["GET", "POST"])
@requires("case:update")
def add_finding(reference: str):
    """Record the finding on one subject and the actions taken."""
    template = "cases/finding.html"
    form = FindingForm()
    if request.method == "GET":
        return _form_page(reference, SUBJECT_FIELDS, template, form, _offer_finding_subjects)
    case = services.find_case_to_change(g.actor, reference)

    def added(data):
        items.add_finding(g.actor, case, data)
        return _back(case, "findings", gettext("Finding recorded."))

    show = _shown_again(case, SUBJECT_FIELDS, template, form, _offer_finding_subjects)
    names = ("person_id", "finding", "actions", "decided_on", "decided_by")
    return submit(form, FindingCreate(), names, added, show, case=case)

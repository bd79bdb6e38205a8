"""The conduct officers' case pages: list, record, read, change and transfer a case.

Every route declares the permission of its JSON API twin. Reads go through the same services as
the API (``read_case`` redacts identities for officers outside the case team), and every page
records its audit event. The forms of a case's items are in :mod:`conduct.cases.item_views`.
"""

from __future__ import annotations

import math

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from conduct.core.i18n import N_
from conduct.core.permissions import requires

from . import overdue, screening, services, transfer
from .access import can_change_case
from .deadlines import all_overdue, all_upcoming, is_answer_overdue
from .edit import READ_FIELDS, edit_form, save_case
from .forms import CaseCreateForm, CaseFilterForm, CaseListPageQuery, TransferForm, choices
from .pages import blueprint, deadline_rules, submit, today
from .schemas import CaseCreateSchema, CaseTransferSchema, case_schema

CREATE_FIELDS = (
    "mission",
    "received_on",
    "source",
    "category",
    "allegation_type",
    "misconduct_class",
    "incident_date",
    "location",
    "narrative",
    "notes",
)
LIST_FILTERS = ("mission", "status", "category", "overdue")
# How the case page names people: role and number ("Victim 1"), in the page's language.
ROLE_NAMES = {
    "victim": N_("Victim"),
    "subject": N_("Subject"),
    "witness": N_("Witness"),
    "reporter": N_("Reporter"),
    "person": N_("Person"),
}


def _mission_choices(missions):
    return choices((code, code) for code in sorted(missions))


@blueprint.get("")
@requires("case:read")
def list_cases():
    """Cases of the user's missions, newest first, with filters and overdue flags."""
    args = {name: value for name, value in request.args.items() if value}
    query = CaseListPageQuery().load(args)
    listed = overdue.list_cases_with_deadlines(
        g.actor, query, query["page"], query["per_page"], today(), deadline_rules()
    )
    form = CaseFilterForm(formdata=request.args)
    form.mission.choices = choices([("", gettext("All my missions"))]) + _mission_choices(
        g.actor.missions
    )
    kept = {name: args[name] for name in (*LIST_FILTERS, "per_page") if name in args}
    pages = max(1, math.ceil(listed.total / listed.per_page))
    return render_template("cases/list.html", listed=listed, form=form, kept=kept, pages=pages)


@blueprint.get("/overdue")
@requires("case:read")
def overdue_items():
    """The officer's own overdue items: cases on whose team they are."""
    found = overdue.overdue_of_officer(g.actor, today(), deadline_rules())
    return render_template("cases/overdue.html", found=found)


@blueprint.route("/new", methods=["GET", "POST"])
@requires("case:create")
def new_case():
    """Record a new report in one of the officer's missions; they join its team."""
    form = CaseCreateForm()
    form.mission.choices = _mission_choices(g.actor.missions)
    if request.method == "GET":
        return render_template("cases/new.html", form=form, errors={})

    def created(data):
        case = services.create_case(g.actor, data)
        flash(gettext("Case %(reference)s recorded.", reference=case.reference))
        return redirect(url_for("cases.view_case", reference=case.reference))

    return submit(
        form,
        CaseCreateSchema(),
        CREATE_FIELDS,
        created,
        lambda: ("cases/new.html", {}),
    )


@blueprint.get("/<reference>")
@requires("case:read")
def view_case(reference: str):
    """One case: identities for the case team only, overdue flags, items and history."""
    case, identities = services.read_case(g.actor, reference)
    shown = case_schema(identities).dump(case)
    when = today()
    rules = deadline_rules()
    other_cases = {}
    if identities:
        other_cases = {
            str(person.id): screening.other_cases_in_scope(g.actor, person)
            for person in case.persons
            if person.role == "subject"
        }
    acting = [item.by_user_id for item in (*case.history, *case.transfers)]
    return render_template(
        "cases/view.html",
        case=shown,
        identities=identities,
        is_team=can_change_case(g.actor, case),
        overdue=all_overdue(case, when, rules),
        upcoming=all_upcoming(case, when, rules),
        late_referrals={str(r.id) for r in case.referrals if is_answer_overdue(r, when)},
        other_cases={key: refs for key, refs in other_cases.items() if refs},
        names={str(key): name for key, name in services.user_names(acting).items()},
        person_labels=person_labels(shown["persons"]),
    )


def person_labels(persons: list[dict]) -> dict[str, str]:
    """How a person is named on the page: role and number, and the name when it is shown."""
    counts: dict[str, int] = {}
    labels = {}
    for person in persons:
        role = person.get("role") or "person"
        counts[role] = counts.get(role, 0) + 1
        name = gettext(ROLE_NAMES.get(role, ROLE_NAMES["person"]))
        label = gettext("%(role)s %(number)d", role=name, number=counts[role])
        if person.get("full_name"):
            label = gettext("%(person)s: %(name)s", person=label, name=person["full_name"])
        labels[str(person["id"])] = label
    return labels


@blueprint.route("/<reference>/edit", methods=["GET", "POST"])
@requires("case:update")
def edit_case(reference: str):
    """Change a case's fields; a stale version shows what the other person changed."""
    if request.method == "GET":
        case = services.read_case_to_change(g.actor, reference, READ_FIELDS)
        return render_template("cases/edit.html", form=edit_form(case), case=case, errors={})
    case = services.find_case_to_change(g.actor, reference)
    return save_case(case)


@blueprint.route("/<reference>/transfer", methods=["GET", "POST"])
@requires("case:transfer")
def transfer_case(reference: str):
    """Move the case to another mission with a reason; its reference and history stay."""
    form = TransferForm()
    if request.method == "GET":
        case = services.read_case_to_change(g.actor, reference, ["mission"])
        form.mission.choices = choices(transfer.mission_choices(case))
        return render_template("cases/transfer.html", form=form, case=case, errors={})
    case = services.find_case_to_change(g.actor, reference)
    form.mission.choices = choices(transfer.mission_choices(case))

    def moved(data):
        transfer.transfer_case(g.actor, case, data["mission"], data["reason"])
        flash(
            gettext(
                "Case %(reference)s transferred to %(mission)s.",
                reference=case.reference,
                mission=case.mission_code,
            )
        )
        if case.mission_code in g.actor.missions:
            return redirect(url_for("cases.view_case", reference=case.reference))
        return redirect(url_for("cases.list_cases"))

    def show():
        services.record_read(g.actor, case, ["mission"])
        return "cases/transfer.html", {"case": case}

    return submit(form, CaseTransferSchema(), ("mission", "reason"), moved, show, case=case)


from . import item_views  # noqa: E402, F401 - the item forms join this blueprint

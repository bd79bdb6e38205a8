"""The case edit page's optimistic locking, for people.

The form carries the version read and a short digest of each value as read. When the case has
changed since (the service refuses a stale version), nothing is saved and the page shows, field
by field, what the other person changed (their value next to what this user submitted), keeps
the user's input, and carries the new version so that a resubmission applies on top of it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import flash, g, redirect, url_for
from flask_babel import gettext
from marshmallow import ValidationError

from conduct import codes
from conduct.core.errors import ValidationFailed, VersionConflict
from conduct.core.i18n import code_label

from . import services
from .forms import CODED_CASE_FIELDS, EDITABLE_CASE_FIELDS, TEXT_CASE_FIELDS, CaseEditForm
from .pages import load_form, problems_of, refuse
from .schemas import CaseUpdateSchema

READ_FIELDS = [*EDITABLE_CASE_FIELDS, "version"]
CODE_LISTS = {
    "source": codes.SOURCE,
    "category": codes.CATEGORY,
    "allegation_type": codes.ALLEGATION_TYPE,
    "misconduct_class": codes.MISCONDUCT_CLASS,
}
TEMPLATE = "cases/edit.html"


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


def values_of(case) -> dict[str, str]:
    """The editable fields of the case as the form shows them."""
    return {name: _shown(getattr(case, name)) for name in EDITABLE_CASE_FIELDS}


def _digest(name: str, value: str) -> str:
    return hashlib.blake2s(f"{name}\0{value}".encode(), digest_size=8).hexdigest()


def digests_of(values: dict[str, str]) -> str:
    return json.dumps({name: _digest(name, value) for name, value in values.items()})


def _read_digests(form) -> dict[str, str]:
    try:
        read = json.loads(form.read_digests.data or "{}")
    except ValueError:
        return {}
    return read if isinstance(read, dict) else {}


def edit_form(case, posted: bool = False) -> CaseEditForm:
    """The edit form for the case as it is now, or as posted; a coded field once set offers no
    blank choice (coded facts are changed, not cleared)."""
    values = values_of(case)
    if posted:
        form = CaseEditForm()
    else:
        digests = digests_of(values)
        form = CaseEditForm(data={**values, "version": case.version, "read_digests": digests})
    for name in CODE_LISTS:
        choices = form[name].choices
        form[name].choices = choices if values[name] == "" else choices[1:]
    return form


def _version(form) -> int:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        raise ValidationError({"version": [gettext("missing: reload the page")]}) from None


def save_case(case):
    """Apply the submitted form to ``case``: a redirect, the form with its problems (400), or
    the conflict page (409)."""
    form = edit_form(case, posted=True)
    try:
        texts = {name: (form[name].data or "").strip() or None for name in TEXT_CASE_FIELDS}
        version = _version(form)
        data = load_form(form, CaseUpdateSchema(), CODED_CASE_FIELDS, {**texts, "version": version})
        data.pop("version")
        changes = {name: value for name, value in data.items() if value != getattr(case, name)}
        names = services.update_case(g.actor, case, version, changes)
    except ValidationError as error:
        return _refused(case, form, problems_of(error))
    except ValidationFailed as error:
        return _refused(case, form, error.fields)
    except VersionConflict as error:
        return _conflict(case, form, error)
    labels = ", ".join(
        str(form[name].label.text).lower() if name in form else name for name in names
    )
    flash(
        gettext("Saved: %(fields)s.", fields=labels) if names else gettext("Nothing was changed.")
    )
    return redirect(url_for("cases.view_case", reference=case.reference))


def _refused(case, form, problems):
    reference = case.reference

    def show():
        current = services.read_case_to_change(g.actor, reference, READ_FIELDS)
        return TEMPLATE, {"case": current, "form": form}

    return refuse(problems, case, show)


def _conflict(case, form, error: VersionConflict):
    reference = case.reference
    yours = {name: (form[name].data or "").strip() for name in EDITABLE_CASE_FIELDS}
    read = _read_digests(form)

    def show():
        current = services.read_case_to_change(g.actor, reference, READ_FIELDS)
        theirs = values_of(current)
        form.version.data = str(current.version)
        form.read_digests.data = digests_of(theirs)
        rows = [
            {
                "name": name,
                "label": form[name].label.text,
                "theirs": _display(name, theirs[name]),
                "yours": _display(name, yours[name]),
                "same": theirs[name] == yours[name],
            }
            for name in EDITABLE_CASE_FIELDS
            if read.get(name) != _digest(name, theirs[name])
        ]
        return TEMPLATE, {"case": current, "form": form, "conflicts": rows}

    return refuse(error.fields, case, show, status=409)


def _display(name: str, value: str) -> str:
    if name in CODE_LISTS and value:
        return code_label(value, CODE_LISTS[name])
    return value or gettext("(empty)")

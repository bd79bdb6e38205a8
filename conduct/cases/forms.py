"""Forms of the case pages (Flask-WTF: every form carries a CSRF token).

The forms only render fields and carry the token; the input is checked by the same marshmallow
schemas as the JSON API and by the services, so a page and the API refuse the same things with
the same words. Choices and their labels come from ``conduct.codes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import fields
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from conduct import codes

from .schemas import CaseListQuery

DATE_INPUT = {"type": "date"}


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """Options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


NOT_SET = _l("(not set)")


def code_choices(code_list: Mapping[str, str], blank: str | None = NOT_SET):
    """The options of a code list, after a blank one when ``blank`` is given; the labels are
    translated when the form is shown."""
    pairs = [(code, _l(label)) for code, label in code_list.items()]
    return choices(([("", blank)] if blank is not None else []) + pairs)


def _select(label: str, code_list: Mapping[str, str] | None = None, **kwargs) -> SelectField:
    # Choices are checked by the schema, with the API's words, not by the form.
    choices = code_choices(code_list) if code_list is not None else []
    return SelectField(label, choices=choices, validate_choice=False, **kwargs)


def _date(label: str, **kwargs) -> StringField:
    return StringField(label, render_kw=DATE_INPUT, **kwargs)


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:
        """Codes are checked by the schema."""


class CaseFieldsForm(FlaskForm):
    """The case's own fields (status moves only along the workflow)."""

    source = _select(_l("Source"), codes.SOURCE)
    category = _select(_l("Category"), codes.CATEGORY)
    allegation_type = _select(_l("Allegation type"), codes.ALLEGATION_TYPE)
    misconduct_class = _select(_l("Misconduct class"), codes.MISCONDUCT_CLASS)
    incident_date = StringField(
        _l("Incident date"), description=_l("YYYY, YYYY-MM or YYYY-MM-DD, as precise as known")
    )
    location = StringField(_l("Location"))
    narrative = TextAreaField(_l("Narrative"), render_kw={"rows": 8})
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 4})


CODED_CASE_FIELDS = ("source", "category", "allegation_type", "misconduct_class", "incident_date")
TEXT_CASE_FIELDS = ("location", "narrative", "notes")
EDITABLE_CASE_FIELDS = (*CODED_CASE_FIELDS, *TEXT_CASE_FIELDS)


class CaseCreateForm(CaseFieldsForm):
    mission = _select(_l("Mission"))
    received_on = _date(_l("Received on"))


class CaseEditForm(CaseFieldsForm):
    version = HiddenField()
    # Short digests of the values as this user read them: on a version conflict they tell the
    # fields the other person changed from the ones this user changed.
    read_digests = HiddenField()


class TransferForm(FlaskForm):
    mission = _select(_l("New mission"))
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 4})


class PersonForm(FlaskForm):
    role = _select(_l("Role"), codes.PERSON_ROLE)
    full_name = StringField(_l("Full name"))
    aliases = StringField(_l("Aliases"))
    date_of_birth = _date(_l("Date of birth"))
    personnel_number = StringField(_l("Personnel number"))
    national_id = StringField(_l("National id"))
    contact = TextAreaField(_l("Contact"), render_kw={"rows": 2})
    sex = _select(_l("Sex"), codes.SEX)
    age_group = _select(_l("Age group"), codes.AGE_GROUP)
    personnel_category = _select(_l("Personnel category (subjects)"), codes.PERSONNEL_CATEGORY)
    nationality = StringField(
        _l("Nationality (uniformed subjects)"), description=_l("ISO 3166 alpha-3 code, as BGD")
    )


class ReferralForm(FlaskForm):
    purpose = _select(_l("Purpose"), codes.REFERRAL_PURPOSE)
    entity = _select(_l("Referred to"), codes.REFERRAL_ENTITY)
    referred_on = _date(_l("Referred on"))
    due_on = _date(_l("Answer due on"))
    consent = _select(
        _l("Victim's consent"),
        codes.CONSENT,
        description=_l("Victim assistance needs consent given"),
    )
    override_reason = TextAreaField(
        _l("Reason for sharing without consent"),
        render_kw={"rows": 3},
        description=_l("Only for override"),
    )
    details = TextAreaField(_l("Details"), render_kw={"rows": 4})


class ReferralAnswerForm(FlaskForm):
    acknowledged_on = _date(_l("Acknowledged on"))
    status = _select(_l("Status"), codes.REFERRAL_STATUS)


class TransitionForm(FlaskForm):
    to = _select(_l("Move to"))
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 3})
    version = HiddenField()


class MeasureForm(FlaskForm):
    person_id = _select(_l("On subject"))
    type = _select(_l("Measure"), codes.INTERIM_MEASURE)
    started_on = _date(_l("Started on"))
    ended_on = _date(_l("Ended on"))


class FindingForm(FlaskForm):
    person_id = _select(_l("Subject"))
    finding = _select(_l("Finding"), codes.FINDING)
    actions = CheckboxesField(_l("Actions"), choices=code_choices(codes.ACTION, blank=None))
    decided_on = _date(_l("Decided on"))
    decided_by = _select(_l("Decided by"), codes.INVESTIGATING_ENTITY)


class CaseListPageQuery(CaseListQuery):
    """The list page's filters: the API's, and overdue cases only."""

    overdue = fields.Boolean(load_default=False)


class CaseFilterForm(FlaskForm):
    """The filters above the case list (a GET form: it changes nothing, so no token)."""

    class Meta:
        csrf = False

    mission = _select(_l("Mission"))
    status = _select(_l("Status"), codes.STATUS)
    category = _select(_l("Category"), codes.CATEGORY)
    overdue = BooleanField(_l("Overdue only"))


def submitted(form: FlaskForm, names: Iterable[str]) -> dict[str, Any]:
    """The fields filled in, as the schemas take them: text stripped, empty fields left out."""
    values: dict[str, Any] = {}
    for name in names:
        value = form[name].data
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, "", []):
            values[name] = value
    return values

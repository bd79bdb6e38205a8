"""Forms of the administration pages (Flask-WTF: every form carries a CSRF token).

The forms check only the shape of the input; the services decide what is acceptable (a known
role, a free email, a strong password, a well-formed mission code), so the pages and the
`conduct users` commands refuse the same things with the same words.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from conduct.codes import ROLES

# What the policy (passwords.check_password_policy) asks for, in words for the form.
POLICY_ADVICE = _l(
    "At least 12 characters, not easy to guess; long phrases of unrelated words work."
)

NAME_NEEDED = DataRequired(_l("a name to show is needed"))


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def role_choices() -> list[SelectChoice]:
    """Each role by its label in the page's language, with its code (the command line's)."""
    return [
        SelectChoice(code, _l("%(role)s (%(code)s)", role=_l(label), code=code))
        for code, label in ROLES.items()
    ]


def mission_choices(missions) -> list[SelectChoice]:
    """Every mission, closed ones too: their cases still need officers."""
    return [
        SelectChoice(
            mission.code,
            mission.code if mission.active else _l("%(code)s (closed)", code=mission.code),
        )
        for mission in missions
    ]


class AccountCreateForm(FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("an email address is needed")), Length(max=254)]
    )
    display_name = StringField(_l("Name"), validators=[NAME_NEEDED, Length(max=200)])
    roles = CheckboxesField(_l("Roles"), choices=role_choices())
    missions = CheckboxesField(_l("Missions"), choices=[])
    password = PasswordField(
        _l("Initial password (optional)"),
        validators=[Optional(), Length(max=1000)],
        description=_l(
            "%(advice)s Without one, the account cannot log in until one is set.",
            advice=POLICY_ADVICE,
        ),
    )
    password_confirm = PasswordField(
        _l("Initial password again"),
        validators=[EqualTo("password", message=_l("the two passwords do not match"))],
    )


class AccountEditForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[NAME_NEEDED, Length(max=200)])
    roles = CheckboxesField(_l("Roles"), choices=role_choices())
    missions = CheckboxesField(_l("Missions"), choices=[])
    password = PasswordField(
        _l("New password (optional; ends the account's sessions)"),
        validators=[Optional(), Length(max=1000)],
        description=POLICY_ADVICE,
    )
    password_confirm = PasswordField(
        _l("New password again"),
        validators=[EqualTo("password", message=_l("the two passwords do not match"))],
    )


class MissionForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("a code is needed")), Length(max=16)],
        render_kw={"autocapitalize": "characters"},
        description=_l("2 to 16 letters, as in MINUSCA"),
    )
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("a name is needed")), Length(max=200)]
    )

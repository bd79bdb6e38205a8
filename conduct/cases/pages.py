"""What the case pages share: the blueprint, template helpers, and answering bad input.

Each page parses its form with the JSON API's marshmallow schema and calls one service; bad
input answers 400 with the form again and each problem next to its field, after rolling back
so that nothing of the attempt is stored but the audit event of the refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from flask import Blueprint, current_app, render_template
from marshmallow import Schema, ValidationError

from conduct.core.db import utcnow
from conduct.core.errors import ConductError
from conduct.core.i18n import N_, translate_problems
from conduct.core.web import record_refusal

from .deadlines import DeadlineRules
from .forms import submitted

blueprint = Blueprint("cases", __name__, url_prefix="/cases")

KIND_LABELS = {
    "referral": N_("Referral for investigation not made"),
    "finding": N_("Finding due"),
    "member_state_reply": N_("Member-state reply due"),
    "referral_answer": N_("Referral answer due"),
}


@blueprint.context_processor
def _page_context() -> dict:
    return {"kind_labels": KIND_LABELS}


def deadline_rules() -> DeadlineRules:
    return DeadlineRules.from_settings(current_app.extensions["conduct_settings"])


def today() -> date:
    return utcnow().date()


def problems_of(error: ValidationError) -> dict[str, list[str]]:
    """A schema's messages as field -> list of lines (items of a list field joined)."""
    messages = error.normalized_messages()
    if not isinstance(messages, dict):
        return {"_schema": [str(messages)]}
    flat: dict[str, list[str]] = {}
    for name, problem in messages.items():
        if isinstance(problem, dict):
            problem = [line for lines in problem.values() for line in lines]
        flat[str(name)] = [str(line) for line in problem]
    return flat


def refuse(problems: Mapping[str, list[str]], case, show: Callable, status: int = 400, **context):
    """Undo the attempt and audit the refusal by field name, then show the page again with the
    problems. ``show()`` gives the template and its context; it runs after the rollback, so
    whatever it reads is audited as a read of its own."""
    record_refusal("invalid" if status == 400 else "failed", problems, case)
    template, shown = show()
    return render_template(
        template, errors=translate_problems(problems), **shown, **context
    ), status


def load_form(form, schema: Schema, names, extra: Mapping[str, Any] | None = None):
    """The form's input loaded by ``schema``; raises ValidationError. The token is checked first."""
    if not form.validate_on_submit():
        raise ValidationError(form.errors)
    return schema.load({**submitted(form, names), **(extra or {})})


def submit(form, schema: Schema, names, act: Callable, show: Callable, case=None, extra=None):
    """Load the form and answer ``act(data)``; on bad input (a schema's or a service's 400),
    refuse and show the form again with the problems next to their fields."""
    try:
        return act(load_form(form, schema, names, extra))
    except ValidationError as error:
        problems = problems_of(error)
    except ConductError as error:
        if error.status != 400:
            raise
        problems = error.fields or {"_schema": [error.message]}
    return refuse(problems, case, show, form=form)

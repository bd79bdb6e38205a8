"""Administration pages: accounts (``user:manage``) and missions (``mission:manage``).

Administrators manage who may log in, with which roles and missions; they never see case
content, and nothing here reads a case. Each view parses its form, calls one service and
redirects (POST-redirect-GET). Bad input answers 400 with the form again, each problem next to
its field, after rolling back so that nothing of the attempt is stored but its audit event.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from conduct.core.errors import ValidationFailed
from conduct.core.i18n import translate_problems
from conduct.core.permissions import requires
from conduct.core.web import record_refusal

from . import admin_services, login, services
from .admin_forms import AccountCreateForm, AccountEditForm, MissionForm, mission_choices

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.context_processor
def _helpers() -> dict:
    return {"is_locked": login.is_locked}


def _refused(template: str, form, problems: dict, **context):
    """Answer bad input: undo the attempt, audit the refusal by field name, show the form."""
    record_refusal("invalid", problems)
    return render_template(template, form=form, errors=translate_problems(problems), **context), 400


def _with_missions(form):
    form.missions.choices = mission_choices(admin_services.all_missions())
    return form


# Accounts


@blueprint.get("/users")
@requires("user:manage")
def users():
    return render_template("admin/users.html", users=admin_services.list_accounts(current_user))


@blueprint.route("/users/new", methods=["GET", "POST"])
@requires("user:manage")
def create_user():
    form = _with_missions(AccountCreateForm())
    template = "admin/user_new.html"
    if not form.validate_on_submit():
        if form.is_submitted():
            return _refused(template, form, form.errors)
        return render_template(template, form=form, errors={})
    try:
        services.create_user(
            current_user,
            form.email.data,
            form.display_name.data,
            form.roles.data,
            form.missions.data,
            password=form.password.data or None,
        )
    except ValidationFailed as error:
        return _refused(template, form, error.fields)
    flash(gettext("Account created. Its owner sets up the second factor at the first login."))
    return redirect(url_for("admin.users"))


def _account_values(user) -> dict:
    return {
        "display_name": user.display_name,
        "roles": sorted(user.roles),
        "missions": sorted(user.missions),
    }


@blueprint.route("/users/<user_id>", methods=["GET", "POST"])
@requires("user:manage")
def edit_user(user_id: str):
    template = "admin/user_edit.html"
    if request.method == "GET":
        user = admin_services.view_account(current_user, user_id)
        form = _with_missions(AccountEditForm(data=_account_values(user)))
        return render_template(template, form=form, errors={}, user=user)
    user = services.get_user(user_id)
    form = _with_missions(AccountEditForm())
    if not form.validate_on_submit():
        return _refused(template, form, form.errors, user=user)
    try:
        services.update_user(
            current_user,
            user,
            display_name=form.display_name.data,
            roles=form.roles.data,
            missions=form.missions.data,
            password=form.password.data or None,
        )
    except ValidationFailed as error:
        return _refused(template, form, error.fields, user=user)
    flash(gettext("Changes saved."))
    return redirect(url_for("admin.edit_user", user_id=user.id))


def _back_to(user, message: str):
    flash(message)
    return redirect(url_for("admin.edit_user", user_id=user.id))


@blueprint.post("/users/<user_id>/disable")
@requires("user:manage")
def disable_user(user_id: str):
    user = services.get_user(user_id)
    admin_services.set_account_active(current_user, user, False)
    return _back_to(user, gettext("Account disabled. Its sessions have ended."))


@blueprint.post("/users/<user_id>/enable")
@requires("user:manage")
def enable_user(user_id: str):
    user = services.get_user(user_id)
    admin_services.set_account_active(current_user, user, True)
    return _back_to(user, gettext("Account enabled."))


@blueprint.post("/users/<user_id>/reset-mfa")
@requires("user:manage")
def reset_mfa(user_id: str):
    user = services.get_user(user_id)
    services.reset_mfa(current_user, user)
    return _back_to(user, gettext("Second factor reset: a new one is set up at the next login."))


@blueprint.post("/users/<user_id>/unlock")
@requires("user:manage")
def unlock_user(user_id: str):
    user = services.get_user(user_id)
    services.unlock(current_user, user)
    return _back_to(user, gettext("Account unlocked."))


# Missions


@blueprint.get("/missions")
@requires("mission:manage")
def missions():
    listed = admin_services.list_missions(current_user)
    return render_template("admin/missions.html", form=MissionForm(), errors={}, missions=listed)


@blueprint.post("/missions")
@requires("mission:manage")
def add_mission():
    form = MissionForm()
    template = "admin/missions.html"
    if not form.validate_on_submit():
        return _refused(template, form, form.errors, missions=admin_services.all_missions())
    try:
        admin_services.add_mission(current_user, form.code.data, form.name.data)
    except ValidationFailed as error:
        return _refused(template, form, error.fields, missions=admin_services.all_missions())
    flash(gettext("Mission added."))
    return redirect(url_for("admin.missions"))


@blueprint.post("/missions/<code>/close")
@requires("mission:manage")
def close_mission(code: str):
    admin_services.set_mission_active(current_user, admin_services.get_mission(code), False)
    flash(gettext("Mission marked closed."))
    return redirect(url_for("admin.missions"))


@blueprint.post("/missions/<code>/reopen")
@requires("mission:manage")
def reopen_mission(code: str):
    admin_services.set_mission_active(current_user, admin_services.get_mission(code), True)
    flash(gettext("Mission marked active."))
    return redirect(url_for("admin.missions"))

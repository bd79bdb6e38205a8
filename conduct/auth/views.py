"""Login pages: password, then a second factor (enrolled at first login), then the home page."""

from __future__ import annotations

import time

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user

from conduct.codes import ROLES
from conduct.core.errors import ValidationFailed
from conduct.core.i18n import COOKIE_NAME as LANGUAGE_COOKIE
from conduct.core.i18n import COOKIE_SECONDS, code_label, is_language, translate_problems
from conduct.core.permissions import permissions_of, requires

from . import login as login_steps
from . import services, totp
from .forms import CodeForm, LoginForm, PasswordChangeForm
from .limits import throttled

blueprint = Blueprint("auth", __name__)

# How long the second step may wait for the first.
MFA_STEP_SECONDS = 300


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect to another site after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("auth.index")


def begin_second_step(user) -> None:
    """The password was right: a new session id, waiting for the second factor."""
    session.rotate()
    session["mfa_user"] = str(user.id)
    session["mfa_since"] = int(time.time())


def pending_user():
    """The account waiting for its second factor, if the first step is recent enough."""
    user_id, since = session.get("mfa_user"), session.get("mfa_since", 0)
    if not user_id or time.time() - since > MFA_STEP_SECONDS:
        return None
    user = services.load_user(user_id)
    return user if user is not None else None


def finish_login(user) -> None:
    login_steps.complete_login(user)
    session.pop("mfa_user", None)
    session.pop("mfa_since", None)
    login_user(user)
    session.rotate()


@blueprint.route("/login", methods=["GET", "POST"])
@throttled
def login():
    form = LoginForm()
    if form.validate_on_submit():
        step = login_steps.check_password_step(form.email.data, form.password.data)
        if step.user is not None:
            begin_second_step(step.user)
            target = "auth.enroll" if step.needs_enrollment else "auth.login_mfa"
            return redirect(url_for(target, next=request.args.get("next")))
        return render_template(
            "auth/login.html", form=form, failed=gettext(login_steps.GENERIC_FAILURE)
        ), 401
    return render_template("auth/login.html", form=form, failed=None)


@blueprint.route("/login/code", methods=["GET", "POST"])
@throttled
def login_mfa():
    user = pending_user()
    if user is None or not user.has_mfa:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        if login_steps.check_second_factor(user, form.code.data):
            finish_login(user)
            return redirect(_safe_next(request.args.get("next")))
        failed = gettext(login_steps.GENERIC_FAILURE)
        return render_template("auth/code.html", form=form, failed=failed), 401
    return render_template("auth/code.html", form=form, failed=None)


@blueprint.route("/login/enroll", methods=["GET", "POST"])
@throttled
def enroll():
    user = pending_user()
    if user is None or user.has_mfa:
        return redirect(url_for("auth.login"))
    secret = login_steps.start_enrollment(user)
    uri = totp.provisioning_uri(secret, user.email)
    form = CodeForm()
    failed = None
    if form.validate_on_submit():
        codes = login_steps.confirm_enrollment(user, form.code.data)
        if codes is not None:
            finish_login(user)
            return render_template(
                "auth/recovery_codes.html", codes=codes, next=_safe_next(request.args.get("next"))
            )
        failed = gettext(
            "That code was not accepted. Check the time on your device and try the next one."
        )
    page = render_template(
        "auth/enroll.html", form=form, secret=secret, uri=uri, qr=totp.qr_svg(uri), failed=failed
    )
    return page, 401 if failed else 200


@blueprint.post("/logout")
def logout():
    login_steps.record_logout(current_user if current_user.is_authenticated else None)
    logout_user()
    session.end()
    return redirect(url_for("auth.login"))


@blueprint.get("/")
@requires("account:self")
def index():
    role_names = sorted(code_label(role, ROLES) for role in current_user.roles)
    return render_template(
        "auth/index.html", permissions=permissions_of(current_user.roles), role_names=role_names
    )


@blueprint.post("/language")
def set_language():
    """Change the pages' language: for the account when logged in, and in a cookie, so that
    the login page and later visits keep it. A plain form (no script needed), with a token."""
    choice = request.form.get("locale", "")
    if not is_language(choice):
        raise ValidationFailed.of({"locale": [gettext("not a language of these pages")]})
    if current_user.is_authenticated:
        services.set_locale(current_user, choice)
    response = redirect(_safe_next(request.form.get("next")))
    response.set_cookie(
        LANGUAGE_COOKIE,
        choice,
        max_age=COOKIE_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response


@blueprint.route("/account/password", methods=["GET", "POST"])
@requires("account:self")
def change_password():
    form = PasswordChangeForm()
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user,
                form.current_password.data,
                form.new_password.data,
                keep_session=session,
            )
        except ValidationFailed as error:
            errors = {
                ("new_password" if name == "password" else name): list(messages)
                for name, messages in translate_problems(error.fields).items()
            }
        else:
            session.rotate()
            return render_template(
                "auth/password.html", form=PasswordChangeForm(), done=True, errors={}
            )
    else:
        errors = {name: list(messages) for name, messages in form.errors.items()}
    status = 400 if errors and request.method == "POST" else 200
    return render_template("auth/password.html", form=form, done=False, errors=errors), status

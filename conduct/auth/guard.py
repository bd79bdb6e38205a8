"""The request guard: deny by default.

Every request passes here after the request plumbing has started. Open endpoints (login, health,
static files) pass; every other endpoint needs a logged-in user with a completed second factor,
and the permission its view declares. A view that declares none is closed to everyone. The JSON
API also refuses requests that another site made (Origin, Sec-Fetch-Site) and bodies that are not
JSON, which is why it needs no CSRF token.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, g, redirect, request, url_for
from flask_babel import gettext
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from conduct.core.errors import Forbidden, NotAuthenticated, ValidationFailed
from conduct.core.permissions import (
    OPEN_ENDPOINTS,
    has_permission,
    permissions_of,
    required_permission,
)
from conduct.core.web import is_api_request

from . import limits
from .services import load_user
from .sessions import COOKIE_NAME, DatabaseSessionInterface

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.session_protection = None
login_manager.user_loader(load_user)

_SAFE_SITES = {"same-origin", "none"}
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def refuse_cross_site() -> None:
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        raise Forbidden("requests from another site are refused")
    site = request.headers.get("Sec-Fetch-Site")
    if site and site not in _SAFE_SITES:
        raise Forbidden("requests from another site are refused")
    sends_body = request.method in _BODY_METHODS and request.content_length
    if sends_body and not (request.is_json or request.mimetype == "multipart/form-data"):
        raise ValidationFailed(
            "the API takes JSON bodies only", {"_body": ["send application/json"]}
        )


def guard():
    endpoint = request.endpoint
    if endpoint is None:
        return None
    if is_api_request():
        refuse_cross_site()
    elif request.method in _BODY_METHODS:
        csrf.protect()
    user = current_user if current_user.is_authenticated else None
    g.actor = user
    if endpoint in OPEN_ENDPOINTS:
        return None
    if user is None:
        if is_api_request():
            raise NotAuthenticated(gettext("log in first"))
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    permission = required_permission(current_app.view_functions[endpoint])
    if permission is None or not has_permission(user, permission):
        raise Forbidden(gettext("you are not allowed to do this"))
    return None


def permissions_in_templates() -> dict:
    """``user_permissions`` in every template: pages show only the links a user may follow."""
    held = permissions_of(current_user.roles) if current_user.is_authenticated else frozenset()
    return {"user_permissions": held}


def init_app(app: Flask) -> None:
    settings = app.extensions["conduct_settings"]
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        REMEMBER_COOKIE_DURATION=timedelta(seconds=0),
        WTF_CSRF_TIME_LIMIT=None,
        # Checked by the guard below for every form, so the API can be told apart.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_SSL_STRICT=settings.is_production,
    )
    app.session_interface = DatabaseSessionInterface(
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(hours=settings.session_max_hours),
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    limits.init_app(app)
    app.before_request(guard)
    app.context_processor(permissions_in_templates)

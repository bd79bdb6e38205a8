"""Conduct: case tracking for misconduct and sexual exploitation and abuse in peace operations.

``create_app`` builds the application: settings, keys, database, features. It refuses to start
when a key is missing or wrong, or when production settings are unsafe.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from conduct.config import ConfigurationError, Settings, load_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
UPLOAD_ENVELOPE_BYTES = 1024 * 1024


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Application factory. ``overrides`` take precedence over every other setting source."""
    settings = load_settings(overrides)
    keyring = _open_keys(settings)
    settings.instance_path.mkdir(parents=True, exist_ok=True)

    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings),
        # Room for the largest attachment and its multipart envelope; a bigger body is refused
        # before it is read.
        MAX_CONTENT_LENGTH=settings.attachment_max_bytes + UPLOAD_ENVELOPE_BYTES,
        JSON_SORT_KEYS=False,
        TESTING=settings.env == "testing",
    )
    app.extensions["conduct_settings"] = settings
    app.extensions["conduct_keyring"] = keyring
    _init_extensions(app)
    _register_features(app)
    from conduct.cli import register_app_commands

    register_app_commands(app)
    if not app.debug:
        logging.getLogger("conduct").setLevel(logging.INFO)
    return app


def _open_keys(settings: Settings):
    from conduct.crypto import CryptoError
    from conduct.crypto.keys import load_keyring

    try:
        return load_keyring(settings.key_dir, settings.kek)
    except CryptoError as error:
        raise ConfigurationError(f"cannot start: {error}") from None


def _engine_options(settings: Settings) -> dict[str, Any]:
    if settings.uses_sqlite:
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}


def _init_extensions(app: Flask) -> None:
    from flask_migrate import Migrate

    from conduct.audit import sealer
    from conduct.auth import guard
    from conduct.core import i18n, web
    from conduct.core.db import db

    db.init_app(app)
    Migrate(app, db, directory=str(MIGRATIONS_DIR), compare_type=True)
    i18n.init_app(app)
    web.init_app(app)
    guard.init_app(app)
    sealer.init_app(app)


def _register_features(app: Flask) -> None:
    from conduct import models  # noqa: F401 - every table registered with the metadata
    from conduct.audit import api as audit_api
    from conduct.audit import checkpoint_api as audit_checkpoint_api
    from conduct.audit import views as audit_views
    from conduct.auth import admin as auth_admin
    from conduct.auth import api as auth_api
    from conduct.auth import views as auth_views
    from conduct.cases import api as cases_api
    from conduct.cases import attachment_views, screening_api
    from conduct.cases import attachments_api as cases_attachments_api
    from conduct.cases import items_api as cases_items_api
    from conduct.cases import views as cases_views
    from conduct.cases import workflow_api as cases_workflow_api
    from conduct.core import api_docs, health
    from conduct.reports import api as reports_api
    from conduct.reports import views as reports_views

    for blueprint in (
        health.blueprint,
        api_docs.blueprint,
        auth_views.blueprint,
        auth_api.blueprint,
        auth_admin.blueprint,
        cases_api.blueprint,
        cases_items_api.blueprint,
        cases_attachments_api.blueprint,
        attachment_views.blueprint,
        cases_workflow_api.blueprint,
        screening_api.blueprint,
        cases_views.blueprint,
        audit_views.blueprint,
        audit_api.blueprint,
        audit_checkpoint_api.blueprint,
        reports_api.blueprint,
        reports_views.blueprint,
    ):
        app.register_blueprint(blueprint)


def settings_of(app: Flask) -> Settings:
    return app.extensions["conduct_settings"]

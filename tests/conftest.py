"""Fixtures shared by every feature's tests.

Each test gets its own instance folder and an empty database built from the models: a new
SQLite file, or, when CONDUCT_TEST_DATABASE_URL points at PostgreSQL, a new schema inside a
database made for this test run and dropped at its end. Tests never touch the real instance/.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from conduct import create_app
from conduct.core.db import db, normalise_database_url, unit_of_work
from conduct.core.missions import seed_missions
from conduct.crypto.keys import init_key_dir
from tests import factories
from tests.factories import PASSWORD, make_user

POSTGRES_URL = os.environ.get("CONDUCT_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory) -> Path:
    """One set of keys for the run (key creation is tested on its own)."""
    path = tmp_path_factory.mktemp("keys")
    init_key_dir(path)
    return path


@pytest.fixture(scope="session")
def postgres_database():
    """A database of its own for this run, dropped at the end; None when testing on SQLite."""
    if not POSTGRES_URL:
        yield None
        return
    admin_url = make_url(normalise_database_url(POSTGRES_URL))
    name = f"conduct_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path, postgres_database):
    """A fresh, empty database for one test: an SQLite file, or a PostgreSQL schema."""
    if postgres_database is None:
        yield f"sqlite:///{tmp_path / 'conduct.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = postgres_database.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def make_app(tmp_path, key_dir, database_url):
    """Build an app on this test's database; extra settings as keyword arguments."""
    apps = []

    def build(**settings):
        overrides = {
            "CONDUCT_ENV": "testing",
            "CONDUCT_INSTANCE_PATH": str(tmp_path / "instance"),
            "CONDUCT_DATABASE_URL": database_url,
            "CONDUCT_KEY_DIR": str(key_dir),
            "CONDUCT_SECRET_KEY": "test-secret-" + "x" * 40,
        }
        overrides.update(settings)
        app = create_app(overrides)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def migrated_app(make_app):
    """An app over a database built by the migrations (not ``create_all``), for tests that
    move between revisions."""
    from flask_migrate import upgrade

    app = make_app()
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()


@pytest.fixture
def app_settings() -> dict:
    """Extra settings for the ``app`` fixture; a test module overrides this to change them."""
    return {}


@pytest.fixture
def app(make_app, app_settings):
    """The application with every table created and the missions seeded."""
    app = make_app(**app_settings)
    with app.app_context():
        db.create_all()
        with unit_of_work() as session:
            seed_missions(session)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def work(app):
    """Run the test body inside an app context; ``work()`` opens one committed unit of work."""
    with app.app_context():
        yield unit_of_work


@pytest.fixture
def user_factory(app):
    """Make a committed account: ``user_factory(roles=..., missions=..., enrolled=...)``."""
    from conduct.core.db import unit_of_work

    def build(**kwargs):
        with app.app_context(), unit_of_work():
            user = make_user(**kwargs)
            return user.id, user.email

    return build


@pytest.fixture
def api_login(app):
    """Log a test client in through the API with password and a fresh code."""

    def login(client, user_id, password=PASSWORD):
        with app.app_context():
            return factories.api_login(client, user_id, password)

    return login

"""Migrations: one head, the models equal the head, and every revision goes up and down.

Each test starts from the empty database of ``make_app`` (an SQLite file, or a PostgreSQL schema
when CONDUCT_TEST_DATABASE_URL is set), never from ``create_all``.
"""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from conduct.codes import MISSIONS
from conduct.core.db import db
from conduct.core.missions import Mission

VERSION_TABLE = "alembic_version"


@pytest.fixture
def empty_app(make_app):
    """An app context over an empty database."""
    app = make_app()
    with app.app_context():
        yield app


def script_directory(app: Flask) -> ScriptDirectory:
    config = app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config)


def revisions_oldest_first(app: Flask) -> list:
    return list(reversed(list(script_directory(app).walk_revisions("base", "heads"))))


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def model_table_names() -> set[str]:
    return set(db.metadata.tables)


def test_one_head(empty_app):
    assert len(script_directory(empty_app).get_heads()) == 1


def test_models_equal_head(empty_app):
    upgrade()
    options = dict(empty_app.extensions["migrate"].configure_args)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=options)
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrade_downgrade_upgrade(empty_app):
    head = script_directory(empty_app).get_current_head()

    upgrade()
    assert table_names() == model_table_names() | {VERSION_TABLE}
    assert current_revision() == head

    downgrade(revision="base")
    assert table_names() == {VERSION_TABLE}
    assert current_revision() is None

    upgrade()
    assert table_names() == model_table_names() | {VERSION_TABLE}
    assert current_revision() == head


def test_each_revision_goes_up_and_down(empty_app):
    revisions = revisions_oldest_first(empty_app)
    assert revisions, "no revisions found"
    for revision in revisions:
        upgrade(revision=revision.revision)
        assert current_revision() == revision.revision
        downgrade(revision="-1")
        assert current_revision() == revision.down_revision
        upgrade(revision=revision.revision)
        assert current_revision() == revision.revision


def test_upgrade_seeds_every_mission(empty_app):
    upgrade()
    stored = {
        mission.code: (mission.name, mission.active)
        for mission in db.session.scalars(select(Mission))
    }
    db.session.rollback()
    assert stored == {code: (name, active) for code, name, active in MISSIONS}


def test_sqlite_foreign_keys_are_on_again_after_upgrade(empty_app):
    """Migrations switch SQLite foreign keys off; the pooled connections must get them back."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("foreign keys are only switched off on SQLite")
    upgrade()
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1

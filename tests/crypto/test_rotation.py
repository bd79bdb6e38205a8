"""KEK rotation: every key wrapped again under the new KEK, resumable, data unchanged."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from conduct import create_app
from conduct.audit.models import AuditEvent
from conduct.cases.models import Case, Person
from conduct.core.db import db, unit_of_work
from conduct.crypto.keys import deployment_key_status, kek_file_name, kek_provider
from conduct.crypto.models import DataKey
from conduct.crypto.rotation import data_keys_to_rewrap, rewrap_data_keys
from tests.factories import make_case, make_person


@pytest.fixture
def own_keys(tmp_path, key_dir):
    """A copy of the run's keys that this test may rotate."""
    path = tmp_path / "own-keys"
    shutil.copytree(key_dir, path)
    return path


@pytest.fixture
def app_settings(own_keys):
    return {"CONDUCT_KEY_DIR": str(own_keys)}


@pytest.fixture
def cases(work):
    with work():
        made = [make_case(narrative=f"narrative {n}") for n in range(5)]
        for case in made:
            make_person(case, full_name=f"Person of {case.reference}")
        return {case.id: case.reference for case in made}


def _kek_versions():
    return sorted(version for (version,) in db.session.execute(select(DataKey.kek_version)))


def _readable(keys, make_app, cases):
    """A new process's view: every case and person opens with the keys now on disk."""
    fresh = make_app(CONDUCT_KEY_DIR=str(keys))
    with fresh.app_context(), unit_of_work():
        for case_id, reference in cases.items():
            case = db.session.get(Case, case_id)
            assert case.narrative.startswith("narrative ")
            person = db.session.scalar(select(Person).where(Person.case_id == case_id))
            assert person.full_name == f"Person of {reference}"


def test_rotate_with_a_new_kek_rewraps_every_key(app, runner, own_keys, cases, make_app):
    result = runner.invoke(args=["keys", "rotate", "--new-kek", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "created KEK version 2" in result.output
    assert "case data keys rewrapped under KEK 2: 5" in result.output
    assert "KEK versions 1 wrap no key any more" in result.output
    with app.app_context():
        assert _kek_versions() == [2] * 5
        assert set(deployment_key_status(own_keys, kek_provider(own_keys)).values()) == {2}
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "keys.rotate")
        ).one()
        assert "data_keys" in event.fields.split(",")
    # The old KEK can go: everything opens with the new one alone.
    (own_keys / kek_file_name(1)).unlink()
    _readable(own_keys, make_app, cases)


def test_a_stopped_rotation_continues_where_it_stopped(app, runner, own_keys, cases, make_app):
    from conduct.crypto.keys import add_kek

    add_kek(own_keys)
    provider = kek_provider(own_keys)
    with app.app_context():
        with unit_of_work() as session:
            assert rewrap_data_keys(session, provider, 2) == 2
        with unit_of_work() as session:
            assert data_keys_to_rewrap(session, provider) == 3
            assert _kek_versions() == [1, 1, 1, 2, 2]
    # Half rotated, the service still reads every case (each key names its KEK version).
    _readable(own_keys, make_app, cases)
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "case data keys rewrapped under KEK 2: 3" in result.output
    again = runner.invoke(args=["keys", "rotate"])
    assert "case data keys rewrapped under KEK 2: 0" in again.output
    assert "deployment keys rewrapped under KEK 2: 0" in again.output


def test_a_running_service_opens_keys_wrapped_by_a_kek_added_after_it_started(app, runner, cases):
    assert runner.invoke(args=["keys", "rotate", "--new-kek"]).exit_code == 0
    # ``app`` loaded its KEKs before version 2 existed; it finds the new file when a key
    # names it.
    with app.app_context(), unit_of_work():
        for case_id in cases:
            assert db.session.get(Case, case_id).narrative.startswith("narrative ")


def test_new_kek_is_refused_when_the_kek_comes_from_the_environment(tmp_path, own_keys, app):
    kek_text = (own_keys / kek_file_name(1)).read_text().strip()
    env_app = create_app(
        {
            "CONDUCT_ENV": "testing",
            "CONDUCT_INSTANCE_PATH": str(tmp_path / "instance"),
            "CONDUCT_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "CONDUCT_KEY_DIR": str(own_keys),
            "CONDUCT_SECRET_KEY": "s" * 40,
            "CONDUCT_KEK": f"1:{kek_text}",
        }
    )
    result = env_app.test_cli_runner().invoke(args=["keys", "rotate", "--new-kek"])
    assert result.exit_code != 0
    assert "CONDUCT_KEK" in result.output
    assert not (own_keys / kek_file_name(2)).exists()
    with env_app.app_context():
        db.engine.dispose()

"""Retention: closed cases past their period are crypto-shredded; nothing else is touched."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, select

from conduct.audit.models import AuditEvent
from conduct.cases import retention, services
from conduct.cases.models import Case, Finding, Person, StatusChange
from conduct.config import ConfigurationError, load_settings
from conduct.core.db import db, unit_of_work, utcnow
from conduct.crypto import ShreddedError
from conduct.crypto.vault import Vault
from tests.factories import make_case, make_person

YEARS_AGO_6 = datetime(utcnow().year - 6, 3, 1, 9, 30, tzinfo=UTC)
YEARS_AGO_2 = datetime(utcnow().year - 2, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def app_settings() -> dict:
    return {"CONDUCT_RETENTION_YEARS": "5"}


def _closed_case(closed_at, *, substantiated=False, reopened=False, status="closed_other"):
    """A case with a subject whose identities screening can find, closed at ``closed_at``."""
    case = make_case(narrative="Account given by the victim.")
    subject = make_person(
        case,
        role="subject",
        full_name="Jean Ndongo",
        date_of_birth=date(1985, 1, 2),
        personnel_number="AB-123456",
    )
    db.session.add(StatusChange(case=case, from_status="received", to_status=status, at=closed_at))
    case.status = status
    if substantiated:
        db.session.add(
            Finding(case=case, person_id=subject.id, finding="substantiated", decided_by="oios")
        )
    if reopened:
        db.session.add(
            StatusChange(case=case, from_status=status, to_status="received", at=datetime.now(UTC))
        )
        case.status = "received"
    db.session.flush()
    return case.id


@pytest.fixture
def cases(app):
    with app.app_context(), unit_of_work():
        ids = {
            "old": _closed_case(YEARS_AGO_6),
            "closed_status": _closed_case(YEARS_AGO_6, status="closed"),
            "recent": _closed_case(YEARS_AGO_2),
            "substantiated": _closed_case(YEARS_AGO_6, substantiated=True),
            "reopened": _closed_case(YEARS_AGO_6, reopened=True),
            "open": make_case().id,
        }
    return ids


def _policy(app):
    return retention.RetentionPolicy.from_settings(app.extensions["conduct_settings"])


def _is_shredded(case_id) -> bool:
    case = db.session.get(Case, case_id)
    try:
        _ = case.narrative
    except ShreddedError:
        return True
    return False


def test_years_after_keeps_the_day_and_moves_29_february():
    assert retention.years_after(date(2020, 5, 17), 5) == date(2025, 5, 17)
    assert retention.years_after(date(2024, 2, 29), 1) == date(2025, 2, 28)


def test_the_review_splits_closed_cases_into_due_and_kept(app, cases):
    with app.app_context(), unit_of_work():
        found = retention.review(None, _policy(app), utcnow().date())
    assert {item.id for item in found.due} == {cases["old"], cases["closed_status"]}
    kept = {item.id: item for item in found.kept}
    assert set(kept) == {cases["recent"], cases["substantiated"]}
    assert kept[cases["substantiated"]].due_on is None  # kept for screening
    assert kept[cases["recent"]].due_on == date(YEARS_AGO_2.year + 5, 3, 1)
    assert [item.id for item in found.held_for_screening] == [cases["substantiated"]]


def test_the_review_opens_no_data_key(app, cases, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("the review reached for a case's data key")

    for name in ("data_key", "preload", "loaded_data_key"):
        monkeypatch.setattr(Vault, name, refuse)
    with app.app_context(), unit_of_work():
        found = retention.review(None, _policy(app), utcnow().date())
    assert len(found.due) == 2


def test_shredding_destroys_identities_keeps_coded_facts_and_is_audited(app, cases):
    with app.app_context(), unit_of_work():
        found = retention.review(None, _policy(app), utcnow().date())
    with app.app_context(), unit_of_work():
        done = retention.shred_due(None, _policy(app), utcnow().date(), found.due)
    assert done == 2
    with app.app_context(), unit_of_work():
        assert _is_shredded(cases["old"]) and _is_shredded(cases["closed_status"])
        for name in ("recent", "substantiated", "reopened", "open"):
            assert not _is_shredded(cases[name]), name
        old = db.session.get(Case, cases["old"])
        assert old.status == "closed_other" and old.category == "sexual_abuse"
        (subject,) = db.session.scalars(select(Person).where(Person.case_id == old.id)).all()
        assert subject.role == "subject"
        assert subject.personnel_number_index is None and subject.name_dob_index is None
        shred_events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.shred")
        ).all()
        assert {event.case_id for event in shred_events} == {cases["old"], cases["closed_status"]}
        (review_event,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.review")
        ).all()
        assert set(review_event.fields.split(",")) == set(retention.REVIEWED_FIELDS)


def test_screening_still_finds_a_subject_kept_for_screening(app, cases):
    with app.app_context(), unit_of_work():
        found = retention.review(None, _policy(app), utcnow().date())
        retention.shred_due(None, _policy(app), utcnow().date(), found.due)
    with app.app_context(), unit_of_work():
        kept = db.session.scalars(
            select(Person).where(Person.case_id == cases["substantiated"])
        ).one()
        assert kept.personnel_number_index is not None


def test_a_case_reopened_after_the_review_is_not_shredded(app, cases):
    with app.app_context(), unit_of_work():
        found = retention.review(None, _policy(app), utcnow().date())
    with app.app_context(), unit_of_work():
        case = db.session.get(Case, cases["old"])
        db.session.add(StatusChange(case=case, from_status="closed_other", to_status="received"))
        case.status = "received"
    with app.app_context(), unit_of_work():
        done = retention.shred_due(None, _policy(app), utcnow().date(), found.due)
    assert done == 1
    with app.app_context(), unit_of_work():
        assert not _is_shredded(cases["old"]) and _is_shredded(cases["closed_status"])


def test_a_period_for_substantiated_cases_makes_them_due_too(make_app, cases, app):
    strict = make_app(
        CONDUCT_RETENTION_YEARS="5",
        CONDUCT_RETENTION_SUBSTANTIATED_YEARS="5",
        CONDUCT_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
    )
    with strict.app_context(), unit_of_work():
        found = retention.review(None, _policy(strict), utcnow().date())
    assert cases["substantiated"] in {item.id for item in found.due}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"CONDUCT_RETENTION_YEARS": "0"}, "CONDUCT_RETENTION_YEARS must be a number of years"),
        ({"CONDUCT_RETENTION_YEARS": "five"}, "CONDUCT_RETENTION_YEARS must be a whole number"),
        ({"CONDUCT_RETENTION_SUBSTANTIATED_YEARS": "10"}, "needs CONDUCT_RETENTION_YEARS"),
        (
            {"CONDUCT_RETENTION_YEARS": "10", "CONDUCT_RETENTION_SUBSTANTIATED_YEARS": "5"},
            "must be at least CONDUCT_RETENTION_YEARS",
        ),
    ],
)
def test_bad_retention_settings_stop_the_service(tmp_path, settings, message):
    overrides = {"CONDUCT_INSTANCE_PATH": str(tmp_path), "CONDUCT_ENV": "testing", **settings}
    with pytest.raises(ConfigurationError, match=message):
        load_settings(overrides, environ={})


# The command


def test_the_command_refuses_to_run_without_a_period(make_app):
    app = make_app()
    with app.app_context():
        db.create_all()
    result = app.test_cli_runner().invoke(args=["retention", "apply", "--dry-run"])
    assert result.exit_code == 1
    assert "set CONDUCT_RETENTION_YEARS" in result.output


def test_a_dry_run_lists_references_and_dates_and_shreds_nothing(app, cases):
    result = app.test_cli_runner().invoke(args=["retention", "apply", "--dry-run", "--list"])
    assert result.exit_code == 0, result.output
    assert "due now: 2" in result.output and "kept for screening: 1" in result.output
    assert "MINUSCA: 2 cases due" in result.output
    with app.app_context(), unit_of_work():
        old = db.session.get(Case, cases["old"])
        assert f"{old.reference} closed {YEARS_AGO_6.date()}" in result.output
        assert "Ndongo" not in result.output and "victim" not in result.output
        assert not _is_shredded(cases["old"])


def test_the_command_asks_before_destroying(app, cases):
    refused = app.test_cli_runner().invoke(args=["retention", "apply"], input="n\n")
    assert refused.exit_code == 1
    with app.app_context(), unit_of_work():
        assert not _is_shredded(cases["old"])
    done = app.test_cli_runner().invoke(args=["retention", "apply", "--yes", "--batch", "1"])
    assert done.exit_code == 0, done.output
    assert "shredded 2 cases" in done.output
    with app.app_context(), unit_of_work():
        assert _is_shredded(cases["old"]) and _is_shredded(cases["closed_status"])
    again = app.test_cli_runner().invoke(args=["retention", "apply", "--yes"])
    assert again.exit_code == 0 and "due now: 0" in again.output


def test_services_shred_case_keeps_its_own_event(app):
    with app.app_context(), unit_of_work():
        case = make_case()
        services.shred_case(None, case)
        (event,) = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.case_id == case.id, AuditEvent.action.like("%shred")
            )
        ).all()
        assert event.action == "case.shred"


def test_a_batch_reads_its_cases_once(app):
    """Shredding one case reloads that case's rows only: the batch's other cases, read
    together at its start, are not read again one by one."""
    with app.app_context(), unit_of_work():
        ids = [_closed_case(YEARS_AGO_6) for _ in range(4)]
    with app.app_context(), unit_of_work():
        found = retention.review(None, _policy(app), utcnow().date())
    case_reads = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().startswith("SELECT") and "FROM cases" in statement:
            case_reads.append(statement)

    with app.app_context(), unit_of_work():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            done = retention.shred_due(None, _policy(app), utcnow().date(), found.due)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert done == 4
    assert len(case_reads) == 1, case_reads
    with app.app_context(), unit_of_work():
        assert all(_is_shredded(case_id) for case_id in ids)

"""The statistics generation moves on once per committed transaction that changed a row
statistics read (any row with coded facts, or a data key), and only then."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, delete, select, update
from sqlalchemy.orm import Session

from conduct.audit import record
from conduct.cases import services
from conduct.cases.generation import (
    EVERY_CASE,
    StatisticsChange,
    StatisticsGeneration,
    statistics_generation,
)
from conduct.cases.models import (
    Case,
    Finding,
    InterimMeasure,
    PaternityClaim,
    Person,
    Referral,
    StatusChange,
)
from conduct.core.db import READ_ONLY, db
from conduct.crypto import open_vault
from tests.factories import make_case, make_person


def committed_generation() -> int:
    """The stored value, read on a connection of its own (a snapshot: it waits for no writer)."""
    with db.engine.connect().execution_options(**READ_ONLY) as connection:
        return connection.scalar(
            select(StatisticsGeneration.value).where(StatisticsGeneration.id == 1)
        )


@pytest.fixture
def case_id(work):
    """A committed case with a victim and a subject who has a finding."""
    with work():
        case = make_case()
        make_person(case)
        subject = make_person(case, role="subject", personnel_category="military_contingent")
        db.session.add(
            Finding(case=case, person=subject, finding="substantiated", actions=["repatriation"])
        )
        return case.id


def _subject(case: Case) -> Person:
    return next(person for person in case.persons if person.role == "subject")


# Each write goes through the ORM as the services do, or through a bulk statement.
WRITES = {
    "open a case": lambda case: make_case(mission="UNMISS"),
    "change a case's coded fact": lambda case: setattr(case, "status", "referred"),
    "change a case's plain column": lambda case: setattr(case, "mission_code", "MONUSCO"),
    "change a case's identifying field": lambda case: setattr(case, "notes", "Called back."),
    "add a person": lambda case: make_person(case, role="witness"),
    "change a person's coded fact": lambda case: setattr(_subject(case), "nationality", "NPL"),
    "add a referral": lambda case: db.session.add(
        Referral(case=case, entity="oios", purpose="investigation", referred_on=date(2026, 3, 4))
    ),
    "add a status change": lambda case: db.session.add(
        StatusChange(case=case, from_status="received", to_status="referred")
    ),
    "add a measure": lambda case: db.session.add(
        InterimMeasure(case=case, type="administrative_leave", started_on=date(2026, 3, 5))
    ),
    "add a paternity claim": lambda case: db.session.add(
        PaternityClaim(case=case, status="claim_received", filed_on=date(2026, 3, 6))
    ),
    "change a finding": lambda case: setattr(case.findings[0], "actions", ["dismissal"]),
    "change a finding's date": lambda case: setattr(
        case.findings[0], "decided_on", date(2026, 4, 1)
    ),
    "delete a finding": lambda case: db.session.delete(case.findings[0]),
    "update persons in bulk": lambda case: db.session.execute(
        update(Person).where(Person.case_id == case.id).values(name_dob_index=None)
    ),
    "delete measures in bulk": lambda case: db.session.execute(
        delete(InterimMeasure).where(InterimMeasure.case_id == case.id)
    ),
    "shred the case": lambda case: services.shred_case(None, case),
}


def test_a_new_database_starts_at_generation_zero(work):
    assert committed_generation() == 0


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_each_kind_of_write_moves_the_generation_on_at_commit(work, case_id, write):
    before = committed_generation()
    with work():
        write(db.session.get(Case, case_id))
        db.session.flush()
        assert committed_generation() == before, "not before the commit"
    assert committed_generation() == before + 1


NOT_PINNED = {"update persons in bulk", "delete measures in bulk"}


def logged_cases(generation: int) -> set:
    with db.engine.connect().execution_options(**READ_ONLY) as connection:
        rows = connection.execute(
            select(StatisticsChange.case_id).where(StatisticsChange.generation == generation)
        )
        return {row[0] for row in rows}


@pytest.mark.parametrize("name", WRITES.keys())
def test_each_kind_of_write_logs_the_cases_it_changed(work, case_id, name):
    with work():
        case = db.session.get(Case, case_id)
        made = WRITES[name](case)
    logged = logged_cases(committed_generation())
    if name in NOT_PINNED:
        assert logged == {EVERY_CASE}
    elif name == "open a case":
        assert logged == {made.id} and made.id != case_id
    else:
        assert logged == {case_id}


def test_a_row_added_through_its_case_logs_the_case(work, case_id):
    with work():
        case = db.session.get(Case, case_id)
        case.persons.append(Person(role="witness", full_name="Ama Owusu"))
    assert logged_cases(committed_generation()) == {case_id}


def test_deleting_a_row_not_loaded_logs_its_case(work, case_id):
    with work():
        finding_id = db.session.scalar(select(Finding.id).where(Finding.case_id == case_id))
    with work():
        finding = db.session.get(Finding, finding_id)
        db.session.expire(finding)
        db.session.delete(finding)
    assert logged_cases(committed_generation()) == {case_id}


def test_reads_and_audit_events_leave_the_generation_alone(work, case_id):
    before = committed_generation()
    with work():
        case = db.session.get(Case, case_id)
        assert case.narrative and case.status and [p.full_name for p in case.persons]
        record("case.view", actor=None, object_type="case", object_id=case.id, case=case)
    assert committed_generation() == before


def test_a_rolled_back_change_leaves_the_generation_alone(work, case_id):
    before = committed_generation()
    with pytest.raises(RuntimeError), work():
        db.session.get(Case, case_id).status = "referred"
        db.session.flush()
        raise RuntimeError("changed my mind")
    assert committed_generation() == before


def test_a_transaction_counts_once_however_many_flushes(work, case_id):
    before = committed_generation()
    with work():
        case = db.session.get(Case, case_id)
        for status in ("preliminary_assessment", "referred"):
            case.status = status
            db.session.flush()
        make_person(case, role="reporter")
    assert committed_generation() == before + 1


def test_a_change_before_a_rolled_back_savepoint_still_counts(work, case_id):
    before = committed_generation()
    with work():
        case = db.session.get(Case, case_id)
        case.status = "referred"
        db.session.flush()
        savepoint = db.session.begin_nested()
        make_person(case, role="reporter")
        savepoint.rollback()
    assert committed_generation() == before + 1


def test_a_transaction_that_changed_statistics_gets_no_generation(work, case_id):
    with work():
        assert statistics_generation() == committed_generation()
        db.session.get(Case, case_id).category = "sexual_exploitation"
        assert statistics_generation() is None  # pending changes are flushed and seen
    with work():
        assert statistics_generation() == committed_generation()


def test_writers_on_separate_connections_each_move_it_on(app, work, case_id):
    """Two transactions of other connections (other processes) change rows; on PostgreSQL
    they overlap, each raising the value the other committed."""
    engine = create_engine(db.engine.url)
    overlap = engine.dialect.name == "postgresql"  # SQLite writers wait for each other
    before = committed_generation()
    try:
        with open_vault():
            first, second = Session(engine), Session(engine)
            first.get(Case, case_id).status = "referred"
            first.flush()
            if overlap:
                make_person_in(second, case_id)
                second.flush()
            first.commit()
            if not overlap:
                make_person_in(second, case_id)
            second.commit()
            first.close()
            second.close()
    finally:
        engine.dispose()
    assert committed_generation() == before + 2


def make_person_in(session: Session, case_id) -> None:
    session.add(Person(case_id=case_id, role="witness", full_name="Jean Mbaye"))

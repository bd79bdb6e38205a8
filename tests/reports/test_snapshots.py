"""Sealed snapshots of the tables' records, brought up to date from the change log, always
equal what reading every row gives."""

from __future__ import annotations

import random
import threading
from datetime import date

import numpy as np
import pytest
from sqlalchemy import func, select, update

from conduct import codes
from conduct.cases import services as cases
from conduct.cases.generation import StatisticsChange, prune_changes, statistics_generation
from conduct.cases.models import Case, Finding, Person, Referral, StatusChange
from conduct.core.db import db, unit_of_work
from conduct.crypto import IntegrityError, current_vault
from conduct.crypto.snapshots import open_snapshot
from conduct.reports import snapshots, units
from conduct.reports.models import StatisticsSnapshot
from tests.factories import make_case, make_person


def no_records(table: str) -> units.Records:
    return {name: np.zeros(0, dtype=kind) for name, kind in units.LAYOUTS[table].items()}


TABLES = ("allegations", "victims", "subjects", "timeliness")
MISSIONS = ("MINUSCA", "MONUSCO", "UNMISS")
WAITING = "pending_member_state"


def _add_case(rng: random.Random) -> Case:
    category = rng.choice(("sexual_abuse", "other_misconduct"))
    kind = "sexual_assault" if category == "sexual_abuse" else "fraud"
    case = make_case(
        mission=rng.choice(MISSIONS),
        received_on=date(rng.choice((2024, 2025, 2026)), rng.randint(1, 12), 1),
        category=category,
        allegation_type=kind,
        status=rng.choice(("received", "referred")),
    )
    for _ in range(rng.randint(0, 2)):
        _add_person(rng, case)
    return case


def _add_person(rng: random.Random, case: Case) -> Person:
    if rng.random() < 0.5:
        return make_person(case, sex=rng.choice(codes.SEX.codes), age_group="child")
    return make_person(
        case,
        role="subject",
        personnel_category=rng.choice(codes.PERSONNEL_CATEGORY.codes[:4]),
        nationality=rng.choice(("BGD", "NPL", None)),
    )


def _subjects(case: Case) -> list[Person]:
    return [person for person in case.persons if person.role == "subject"]


def _random_write(rng: random.Random, all_cases: list[Case]) -> None:
    """One change of the kinds services make."""
    case = rng.choice(all_cases)
    kind = rng.randrange(12)
    if kind == 0:
        all_cases.append(_add_case(rng))
    elif kind == 1:
        _add_person(rng, case)
    elif kind == 2 and case.persons:
        person = rng.choice(case.persons)
        person.sex = rng.choice(codes.SEX.codes)
        person.personnel_category = rng.choice(codes.PERSONNEL_CATEGORY.codes)
    elif kind == 3 and case.persons and not case.findings:
        rng.choice(case.persons).role = rng.choice(("victim", "subject", "witness"))
    elif kind == 4 and _subjects(case):
        db.session.add(
            Finding(
                case=case,
                person=rng.choice(_subjects(case)),
                finding=rng.choice(codes.FINDING.codes),
                actions=rng.sample(codes.ACTION.codes, rng.randint(0, 2)),
                decided_on=date(2026, rng.randint(1, 12), 1),
            )
        )
    elif kind == 5 and case.findings:
        db.session.delete(rng.choice(case.findings))
    elif kind == 6:
        case.mission_code = rng.choice(MISSIONS)
    elif kind == 7:
        case.received_on = date(rng.choice((2023, 2024, 2025)), rng.randint(1, 12), 28)
    elif kind == 8:
        case.status = rng.choice(("preliminary_assessment", "closed", "substantiated"))
    elif kind == 9:
        db.session.add(
            Referral(
                case=case,
                entity=rng.choice(("oios", "tcc_pcc_nio", "member_state")),
                purpose="investigation",
                referred_on=date(2026, rng.randint(1, 6), rng.randint(1, 28)),
                acknowledged_on=rng.choice((None, date(2026, 7, 1))),
            )
        )
    elif kind == 10:
        db.session.add(StatusChange(case=case, from_status=case.status, to_status=WAITING))
        case.status = WAITING
    elif case.referrals:
        rng.choice(case.referrals).acknowledged_on = date(2026, 8, rng.randint(1, 28))


def _assert_equal(left: units.Records, right: units.Records) -> None:
    assert left.keys() == right.keys()
    for name in left:
        missing_equal = left[name].dtype.kind in "fM"  # NaN and NaT mean "not there yet"
        assert np.array_equal(left[name], right[name], equal_nan=missing_equal), name


def _current(table: str) -> units.Records:
    return snapshots.current_records(table, statistics_generation())


@pytest.mark.parametrize("seed", range(8))
def test_records_brought_up_to_date_equal_a_full_read(work, monkeypatch, seed):
    rng = random.Random(seed)
    # Some runs rewrite the snapshot after every change, some never after the first.
    monkeypatch.setattr(snapshots, "REFRESH_AFTER", rng.choice((1, 3, 10_000)))
    with work():
        all_cases = [_add_case(rng) for _ in range(12)]
        ids = [case.id for case in all_cases]
    for _ in range(6):
        with work():
            for table in TABLES:
                _assert_equal(_current(table), units.read_records(table, None))
        with work():
            all_cases = [db.session.get(Case, case_id) for case_id in ids]
            for _ in range(rng.randint(2, 8)):
                _random_write(rng, all_cases)
            ids = [case.id for case in all_cases]
    with work():
        for table in TABLES:
            _assert_equal(_current(table), units.read_records(table, None))
        assert db.session.scalar(select(StatisticsSnapshot.name).limit(1)) is not None


def _cases_and_snapshot(work, seed: int, table: str) -> tuple[list, int]:
    """Six random cases, then the table's snapshot taken in a transaction of its own: the
    cases' ids and the snapshot's generation."""
    rng = random.Random(seed)
    with work():
        ids = [_add_case(rng).id for _ in range(6)]
    with work():
        _current(table)
        return ids, db.session.get(StatisticsSnapshot, table).generation


def test_only_the_changed_cases_are_read_again(work, monkeypatch):
    changed = _cases_and_snapshot(work, 7, "victims")[0][3]
    with work():
        make_person(db.session.get(Case, changed), sex="male", age_group="adult")
    read = []
    read_records = units.read_records

    def spy(table, wanted):
        read.append(wanted)
        return read_records(table, wanted)

    monkeypatch.setattr(units, "read_records", spy)
    with work():
        records = _current("victims")
        assert read == [[changed.hex]]
        _assert_equal(records, read_records("victims", None))


def test_a_write_not_pinned_to_cases_reads_everything(work):
    ids, taken = _cases_and_snapshot(work, 8, "subjects")
    case_id = ids[0]
    with work():
        db.session.execute(
            update(Person).where(Person.case_id == case_id).values(name_dob_index=None)
        )
    with work():
        assert snapshots.changed_cases_since(taken) is None
    with work():
        _assert_equal(_current("subjects"), units.read_records("subjects", None))


def test_a_shredding_reads_again_only_its_case(work):
    ids, taken = _cases_and_snapshot(work, 12, "subjects")
    case_id = ids[2]
    with work():
        cases.shred_case(None, db.session.get(Case, case_id))
    with work():
        assert snapshots.changed_cases_since(taken) == [case_id.hex]
        _assert_equal(_current("subjects"), units.read_records("subjects", None))


def test_an_altered_snapshot_is_not_used(work):
    _cases_and_snapshot(work, 9, "allegations")
    with work():
        stored = db.session.get(StatisticsSnapshot, "allegations")
        sealed = bytearray(stored.sealed)
        sealed[-1] ^= 1
        stored.sealed = bytes(sealed)
    with work():
        assert snapshots._load("allegations") is None
        _assert_equal(_current("allegations"), units.read_records("allegations", None))


def test_a_snapshot_opens_only_under_its_own_name_and_generation(work):
    _cases_and_snapshot(work, 10, "victims")
    with work():
        stored = db.session.get(StatisticsSnapshot, "victims")
        vault = current_vault()
        assert open_snapshot(vault, "victims", stored.generation, stored.sealed)
        with pytest.raises(IntegrityError):
            open_snapshot(vault, "subjects", stored.generation, stored.sealed)
        with pytest.raises(IntegrityError):
            open_snapshot(vault, "victims", stored.generation + 1, stored.sealed)


def test_writing_snapshots_prunes_the_log_and_a_pruned_one_is_not_used(work, monkeypatch):
    rng = random.Random(11)
    with work():
        case_id = [_add_case(rng) for _ in range(6)][0].id
    for table in TABLES:
        with work():
            _current(table)  # every table's first snapshot
    with work():
        make_person(db.session.get(Case, case_id), sex="female", age_group="adult")
    with work():
        oldest = db.session.scalar(select(func.min(StatisticsSnapshot.generation)))
        kept = db.session.scalars(select(StatisticsChange.generation)).all()
        assert kept and min(kept) > oldest, "only entries some snapshot still needs"
        prune_changes(oldest + 1)  # as another answer would, after a snapshot of its own
    read = []
    read_records = units.read_records
    monkeypatch.setattr(units, "read_records", lambda t, w: read.append(w) or read_records(t, w))
    with work():
        _assert_equal(_current("victims"), read_records("victims", None))
        assert read == [None], "the snapshot misses pruned entries: everything is read"


def test_answers_writing_a_snapshot_at_once_keep_the_later_one(app, work):
    """Two answers store the same table's snapshot in overlapping transactions (the first
    one's insert not committed yet): no error, and the later generation stays."""
    stored, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def store(generation: int, before=None, after=None) -> None:
        try:
            if before is not None:
                before.wait(10)
            with app.app_context(), unit_of_work():
                snapshots._store("victims", generation, no_records("victims"))
                if after is not None:
                    after.set()
                    release.wait(10)
        except BaseException as error:  # reported by the test's thread
            failures.append(error)

    first = threading.Thread(target=store, args=(5, None, stored))
    second = threading.Thread(target=store, args=(4, stored))
    first.start()
    second.start()
    second.join(0.5)  # the second waits for the first's commit
    release.set()
    first.join(10)
    second.join(10)
    assert not failures
    with work():
        assert db.session.get(StatisticsSnapshot, "victims").generation == 5

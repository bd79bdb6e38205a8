"""Case references: MISSION-YYYY-NNNN, unique even when officers create cases at one moment."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import select

from conduct.cases.models import Case
from conduct.core.db import db, unit_of_work
from tests.factories import make_case


def test_references_count_per_mission_and_year(work):
    with work():
        made = [
            make_case(mission="MINUSCA", received_on=date(2026, 1, 5)),
            make_case(mission="MINUSCA", received_on=date(2026, 2, 5)),
            make_case(mission="MONUSCO", received_on=date(2026, 2, 5)),
            make_case(mission="MINUSCA", received_on=date(2025, 12, 31)),
        ]
        assert [case.reference for case in made] == [
            "MINUSCA-2026-0001",
            "MINUSCA-2026-0002",
            "MONUSCO-2026-0001",
            "MINUSCA-2025-0001",
        ]


def test_concurrent_creation_gives_unique_contiguous_references(app):
    writers, per_writer = 8, 5
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(per_writer):
                    with unit_of_work():
                        make_case(mission="UNMISS", received_on=date(2026, 6, 1))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        references = db.session.scalars(select(Case.reference)).all()
    expected = {f"UNMISS-2026-{n:04d}" for n in range(1, writers * per_writer + 1)}
    assert sorted(references) == sorted(expected)


def test_a_rolled_back_case_does_not_consume_a_number(work):
    try:
        with work():
            make_case(mission="UNIFIL")
            raise RuntimeError("abandon")
    except RuntimeError:
        pass
    with work():
        assert make_case(mission="UNIFIL").reference == "UNIFIL-2026-0001"


def test_a_block_of_references_follows_the_counter(work):
    from conduct.cases.services import allocate_reference, allocate_references

    with work() as session:
        assert allocate_reference(session, "UNMISS", 2025) == "UNMISS-2025-0001"
        assert allocate_references(session, "UNMISS", 2025, 3) == [
            "UNMISS-2025-0002",
            "UNMISS-2025-0003",
            "UNMISS-2025-0004",
        ]
        assert allocate_references(session, "UNMISS", 2026, 2) == [
            "UNMISS-2026-0001",
            "UNMISS-2026-0002",
        ]
        assert allocate_reference(session, "UNMISS", 2025) == "UNMISS-2025-0005"

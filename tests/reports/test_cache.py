"""Computed tables are kept per statistics generation: reused while nothing changed, computed
afresh after any committed change, whichever connection made it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from conduct.cases.models import Case
from conduct.core.db import db
from conduct.crypto import open_vault
from conduct.reports import services
from tests.factories import make_case

THRESHOLD = 5
FACTS = {
    "status": "received",
    "category": "sexual_abuse",
    "allegation_type": "sexual_assault",
    "source": "community_based_complaint_network",
}


@pytest.fixture
def computations(monkeypatch):
    """The names of the tables computed (not taken from the cache), in order."""
    made = []
    compute = services._compute

    def counted(name, *args):
        made.append(name)
        return compute(name, *args)

    monkeypatch.setattr(services, "_compute", counted)
    return made


@pytest.fixture
def reports(work):
    """Twelve MINUSCA 2025 reports."""
    with work():
        for _ in range(12):
            make_case(received_on=date(2025, 4, 1))


def total(name: str = "allegations") -> int:
    table = services.computed_table(name, THRESHOLD, date(2026, 6, 1))
    return int(table.published[()])


def by_year() -> dict[int, int]:
    table = services.computed_table("allegations", THRESHOLD)
    counts = table.published[("year",)]
    return {year: int(counts[at]) for at, year in enumerate(table.domains["year"])}


def test_an_unchanged_database_is_answered_from_the_cache(work, reports, computations):
    with work():
        assert total() == 12
    with work():
        assert total() == 12
        assert total("victims") == 0
        assert total("victims") == 0
    assert computations == ["allegations", "victims"]


def test_a_commit_on_another_connection_is_seen(app, work, reports, computations):
    """Another application process writes through its own engine."""
    with work():
        assert total() == 12
    engine = create_engine(db.engine.url)
    try:
        with open_vault(), Session(engine) as other:
            for number in range(5):
                other.add(
                    Case(
                        mission_code="MINUSCA",
                        received_on=date(2025, 5, 2),
                        reference=f"MINUSCA-2025-9{number:03d}",
                        **FACTS,
                    )
                )
            other.commit()
    finally:
        engine.dispose()
    with work():
        assert total() == 17
    assert computations == ["allegations", "allegations"]


def test_a_late_commit_with_an_old_timestamp_is_seen(work, reports, computations):
    """Changes stamped before the last computation but committed after it (the case a
    fingerprint of max(updated_at) missed)."""
    with work():
        assert by_year() == {2025: 12}
    with work():
        for case in db.session.scalars(select(Case).limit(6)):
            case.received_on = date(2024, 4, 1)
            db.session.flush()
            case.updated_at = datetime(2020, 1, 1, tzinfo=UTC)
    with work():
        assert by_year() == {2024: 6, 2025: 6}
    assert computations == ["allegations", "allegations"]


def test_a_transaction_sees_its_own_change_and_caches_nothing(work, reports, computations):
    with work():
        assert total() == 12
    with work():
        for _ in range(5):
            make_case(received_on=date(2025, 6, 3))
        assert total() == 17
        db.session.rollback()
    with work():
        assert total() == 12
    assert computations == ["allegations", "allegations"]

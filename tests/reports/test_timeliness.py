"""Timeliness: days to referral and to finding, share overdue, published only when safe."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from conduct.cases import items
from conduct.cases.models import Case
from conduct.core.db import db, unit_of_work
from conduct.reports import services
from tests.factories import make_case, make_user


def _refer(case, officer, days: int):
    items.add_referral(
        officer,
        case,
        {
            "entity": "oios",
            "purpose": "investigation",
            "referred_on": case.received_on + timedelta(days=days),
        },
    )


def test_medians_and_the_share_overdue(app):
    received = date(2025, 3, 3)
    with app.app_context(), unit_of_work():
        officer = make_user()
        for days in (1, 2, 3, 4, 10, 20):
            _refer(make_case(officer, mission="MINUSCA", received_on=received), officer, days)
        for _ in range(4):
            make_case(mission="MINUSCA", received_on=received)  # never referred: overdue
    with app.app_context(), unit_of_work():
        table = services.computed_table("timeliness", 5, date(2026, 1, 1))
        answer = services.answer_of(table, ("mission",), 2025)
    row = next(r for r in answer["rows"] if r["mission"] == "MINUSCA")
    assert row["count"] == 10 and not row["suppressed"]
    assert row["median_days_to_referral"] == 3.5
    assert row["p90_days_to_referral"] == 15.0
    # Six referred cases wait for a finding (90 days, long past) and four for a referral.
    assert row["share_overdue"] == 1.0
    assert row["median_days_to_finding"] is None, "no finding yet"
    others = [r for r in answer["rows"] if r["mission"] != "MINUSCA"]
    assert all(r["count"] == 0 and r["median_days_to_referral"] is None for r in others)


def test_measures_of_few_reports_are_not_published(app):
    with app.app_context(), unit_of_work():
        officer = make_user()
        for days in (1, 2, 3):
            _refer(
                make_case(officer, mission="MINUSCA", received_on=date(2025, 3, 3)), officer, days
            )
        for _ in range(12):
            make_case(mission="MINUSCA", received_on=date(2025, 3, 4))
    with app.app_context(), unit_of_work():
        table = services.computed_table("timeliness", 5, date(2026, 1, 1))
        answer = services.answer_of(table, ("mission",), None)
    row = next(r for r in answer["rows"] if r["mission"] == "MINUSCA")
    assert row["count"] == 15
    assert row["median_days_to_referral"] is None, "three referrals are too few to show"


def test_a_case_the_cached_allegations_never_saw_is_counted_again(app):
    """The allegations table is cached; then a case moves to a new year by a statement the
    statistics generation does not see. Timeliness must not mix the table's domains with
    newer records: it counts the allegations again."""
    with app.app_context(), unit_of_work():
        cases = [make_case(received_on=date(2025, 3, 3)) for _ in range(6)]
        moved = cases[0].id
    with app.app_context(), unit_of_work():
        services.computed_table("allegations", 5, None)
    # Outside the ORM session: the generation does not move.
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            update(Case.__table__)
            .where(Case.__table__.c.id == moved)
            .values(received_on=date(2026, 1, 5))
        )
    with app.app_context(), unit_of_work():
        table = services.computed_table("timeliness", 5, date(2026, 6, 1))
        years = services.answer_of(table, ("year",), None)["rows"]
    assert [row["year"] for row in years] == [2025, 2026]

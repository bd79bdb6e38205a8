"""Demo data: generated through the real models, varied, and reproducible."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from conduct.cases.demo import seed_demo
from conduct.cases.models import Case, Person, Referral
from conduct.core.db import db


def test_seed_makes_varied_cases_with_people_and_referrals(work):
    seed_demo(60, batch=25)
    with work():
        cases = db.session.scalars(select(Case)).all()
        assert len(cases) == 60
        assert len({case.mission_code for case in cases}) >= 4
        assert len({case.received_on.year for case in cases}) >= 4
        assert set(Counter(case.category for case in cases)) == {
            "sexual_exploitation",
            "sexual_abuse",
            "other_misconduct",
        }
        roles = Counter(person.role for person in db.session.scalars(select(Person)))
        assert roles["victim"] >= 60 and roles["subject"] >= 60
        assert db.session.scalar(select(func.count()).select_from(Referral)) > 20
        assert all(case.narrative for case in cases)


def test_seed_is_reproducible(work):
    seed_demo(5, seed=7)
    with work():
        first = [
            (c.mission_code, c.received_on, c.allegation_type)
            for c in db.session.scalars(select(Case).order_by(Case.created_at))
        ]
    seed_demo(5, seed=7)
    with work():
        both = [
            (c.mission_code, c.received_on, c.allegation_type)
            for c in db.session.scalars(select(Case).order_by(Case.created_at))
        ]
    assert both[5:] == first


def test_the_seed_command(runner, work):
    result = runner.invoke(args=["demo", "seed", "--cases", "3"])
    assert result.exit_code == 0, result.output
    assert "added 3 demo cases" in result.output
    with work():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 3

"""Referral answers: a referral with its own due date is overdue the day after, until answered."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from conduct.cases.deadlines import (
    DeadlineRules,
    OverdueItem,
    all_overdue,
    is_answer_overdue,
    overdue_referral_answers,
)

DUE = date(2026, 3, 20)


def referral(status="sent", acknowledged_on=None, due_on=DUE):
    return SimpleNamespace(
        purpose="investigation",
        entity="oios",
        referred_on=date(2026, 3, 4),
        due_on=due_on,
        acknowledged_on=acknowledged_on,
        status=status,
    )


def case(*referrals, status="referred"):
    return SimpleNamespace(
        status=status, received_on=date(2026, 3, 2), referrals=list(referrals), history=[]
    )


def test_an_answer_is_due_on_its_date_and_overdue_the_day_after():
    waiting = referral()
    assert not is_answer_overdue(waiting, DUE)
    assert is_answer_overdue(waiting, date(2026, 3, 21))
    assert overdue_referral_answers(case(waiting), date(2026, 3, 23)) == [
        OverdueItem("referral_answer", DUE, 3)
    ]


@pytest.mark.parametrize(
    "answered",
    [
        referral(acknowledged_on=date(2026, 3, 10), status="acknowledged"),
        referral(status="declined"),
        referral(due_on=None),
    ],
)
def test_an_answered_or_undated_referral_is_not_overdue(answered):
    assert overdue_referral_answers(case(answered), date(2026, 4, 1)) == []


@pytest.mark.parametrize("status", ["closed", "closed_other"])
def test_closed_cases_have_no_answers_due(status):
    assert overdue_referral_answers(case(referral(), status=status), date(2026, 4, 1)) == []


def test_all_overdue_joins_the_rules_and_the_answers_oldest_first():
    items = all_overdue(case(referral()), date(2026, 6, 10), DeadlineRules())
    assert [(item.kind, item.due_on) for item in items] == [
        ("referral_answer", DUE),
        ("finding", date(2026, 6, 2)),
    ]

"""Deadlines: each rule at its boundary, working days over weekends, settings, closed cases."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from conduct.cases.deadlines import (
    Deadline,
    DeadlineRules,
    OverdueItem,
    add_working_days,
    open_deadlines,
    overdue,
    upcoming,
)
from conduct.config import ConfigurationError, load_settings

RULES = DeadlineRules()
RECEIVED = date(2026, 3, 2)  # a Monday


def referral(purpose="investigation", entity="oios", referred_on=date(2026, 3, 4), ack=None):
    return SimpleNamespace(
        purpose=purpose, entity=entity, referred_on=referred_on, acknowledged_on=ack
    )


def moved(to, on: date):
    return SimpleNamespace(to_status=to, at=datetime(on.year, on.month, on.day, 15, tzinfo=UTC))


def case(status="received", referrals=(), history=(), received_on=RECEIVED):
    """A stand-in case: the deadline rules read only plain and coded facts."""
    return SimpleNamespace(
        status=status, received_on=received_on, referrals=list(referrals), history=list(history)
    )


def kinds(items) -> list[str]:
    return [item.kind for item in items]


# -- referral within 7 days of receipt -------------------------------------------------------


def test_referral_is_due_on_day_7_and_overdue_on_day_8():
    waiting = case("preliminary_assessment")
    assert overdue(waiting, date(2026, 3, 9), RULES) == []
    assert overdue(waiting, date(2026, 3, 10), RULES) == [
        OverdueItem("referral", date(2026, 3, 9), 1)
    ]
    assert overdue(waiting, date(2026, 3, 30), RULES)[0].days_overdue == 21


def test_a_victim_assistance_referral_does_not_meet_the_referral_deadline():
    waiting = case(referrals=[referral("medical", "medical")])
    assert kinds(overdue(waiting, date(2026, 3, 10), RULES)) == ["referral"]


def test_an_investigation_referral_meets_the_referral_deadline_even_late():
    referred = case("referred", [referral(referred_on=date(2026, 3, 20))])
    assert "referral" not in kinds(overdue(referred, date(2026, 3, 25), RULES))


# -- finding within 90 days of the first investigation referral ------------------------------


def test_finding_is_due_90_days_after_the_first_investigation_referral():
    first, later = referral(referred_on=date(2026, 3, 4)), referral(referred_on=date(2026, 4, 1))
    investigating = case("under_investigation", [later, first])
    due = date(2026, 6, 2)  # 4 March + 90 days
    assert open_deadlines(investigating, RULES) == [Deadline("finding", due)]
    assert overdue(investigating, due, RULES) == []
    assert overdue(investigating, date(2026, 6, 3), RULES) == [OverdueItem("finding", due, 1)]


@pytest.mark.parametrize("status", ["substantiated", "not_substantiated"])
def test_a_finding_stops_the_finding_deadline(status):
    decided = case(status, [referral()])
    assert overdue(decided, date(2027, 1, 1), RULES) == []


# -- member-state reply within 10 working days -----------------------------------------------


def test_working_days_skip_weekends():
    friday = date(2026, 3, 6)
    assert add_working_days(friday, 1) == date(2026, 3, 9)  # Monday
    assert add_working_days(friday, 10) == date(2026, 3, 20)
    assert add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # from a Saturday
    assert add_working_days(date(2026, 3, 4), 10) == date(2026, 3, 18)


def test_member_state_reply_is_due_10_working_days_after_moving_to_pending():
    waiting = case(
        "pending_member_state",
        [referral(entity="oios")],
        [moved("referred", date(2026, 3, 4)), moved("pending_member_state", date(2026, 3, 6))],
    )
    due = date(2026, 3, 20)  # Friday 6 March + two working weeks
    assert "member_state_reply" not in kinds(overdue(waiting, due, RULES))
    # Saturday and Sunday after the due date are still overdue days.
    assert [i for i in overdue(waiting, date(2026, 3, 22), RULES) if i.kind != "finding"] == [
        OverdueItem("member_state_reply", due, 2)
    ]


def test_the_latest_move_to_pending_counts():
    waiting = case(
        "pending_member_state",
        [referral(entity="oios")],
        [
            moved("pending_member_state", date(2026, 3, 6)),
            moved("under_investigation", date(2026, 3, 10)),
            moved("pending_member_state", date(2026, 3, 11)),  # Wednesday
        ],
    )
    reply = [d for d in open_deadlines(waiting, RULES) if d.kind == "member_state_reply"]
    assert [d.due_on for d in reply] == [date(2026, 3, 25)]


def test_leaving_pending_member_state_stops_its_deadline():
    moved_on = case(
        "under_investigation",
        [referral(entity="oios")],
        [moved("pending_member_state", date(2026, 3, 6))],
    )
    assert "member_state_reply" not in kinds(open_deadlines(moved_on, RULES))


@pytest.mark.parametrize("entity", ["member_state", "tcc_pcc_nio"])
def test_an_unacknowledged_member_state_referral_awaits_a_reply(entity):
    sent = referral(entity=entity, referred_on=date(2026, 3, 6))
    referred = case("referred", [sent])
    assert "member_state_reply" not in kinds(overdue(referred, date(2026, 3, 20), RULES))
    assert OverdueItem("member_state_reply", date(2026, 3, 20), 3) in overdue(
        referred, date(2026, 3, 23), RULES
    )
    sent.acknowledged_on = date(2026, 3, 12)
    assert "member_state_reply" not in kinds(overdue(referred, date(2026, 3, 23), RULES))


# -- closed cases, ordering, configuration ---------------------------------------------------


@pytest.mark.parametrize("status", ["closed", "closed_other"])
def test_closed_cases_never_have_deadlines(status):
    closed = case(
        status,
        [referral(entity="member_state", referred_on=date(2026, 3, 4))],
        [moved("pending_member_state", date(2026, 3, 6))],
    )
    assert overdue(closed, date(2027, 1, 1), RULES) == []
    assert upcoming(closed, date(2026, 3, 3), RULES) == []
    assert overdue(case(status), date(2027, 1, 1), RULES) == []


def test_upcoming_lists_the_next_due_dates_earliest_first():
    referred = case("referred", [referral(entity="tcc_pcc_nio", referred_on=date(2026, 3, 6))])
    assert [(d.kind, d.due_on) for d in upcoming(referred, date(2026, 3, 10), RULES)] == [
        ("member_state_reply", date(2026, 3, 20)),
        ("finding", date(2026, 6, 4)),
    ]
    assert kinds(upcoming(referred, date(2026, 3, 21), RULES)) == ["finding"]


def settings_with(tmp_path, **values):
    """Settings from these values alone (no environment, an empty instance folder)."""
    base = {
        "CONDUCT_ENV": "testing",
        "CONDUCT_SECRET_KEY": "x" * 40,
        "CONDUCT_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    return load_settings({**base, **values}, environ={})


def test_rules_come_from_configuration(tmp_path):
    settings = settings_with(
        tmp_path,
        **{
            "CONDUCT_DEADLINE_REFERRAL_DAYS": "3",
            "CONDUCT_DEADLINE_FINDING_DAYS": "30",
            "CONDUCT_DEADLINE_MEMBER_STATE_WORKING_DAYS": "5",
        },
    )
    rules = DeadlineRules.from_settings(settings)
    assert rules == DeadlineRules(referral_days=3, finding_days=30, member_state_working_days=5)
    assert overdue(case(), date(2026, 3, 6), rules) == [
        OverdueItem("referral", date(2026, 3, 5), 1)
    ]
    referred = case("referred", [referral(entity="member_state", referred_on=date(2026, 3, 6))])
    assert [(d.kind, d.due_on) for d in open_deadlines(referred, rules)] == [
        ("member_state_reply", date(2026, 3, 13)),
        ("finding", date(2026, 4, 5)),
    ]


def test_default_rules_are_the_briefs(tmp_path):
    settings = settings_with(tmp_path)
    assert DeadlineRules.from_settings(settings) == DeadlineRules(7, 90, 10)


@pytest.mark.parametrize(
    "name",
    [
        "CONDUCT_DEADLINE_REFERRAL_DAYS",
        "CONDUCT_DEADLINE_FINDING_DAYS",
        "CONDUCT_DEADLINE_MEMBER_STATE_WORKING_DAYS",
    ],
)
@pytest.mark.parametrize("value", ["0", "-3", "seven"])
def test_bad_deadline_settings_refuse_to_start(tmp_path, name, value):
    with pytest.raises(ConfigurationError, match=name):
        settings_with(tmp_path, **{name: value})


def test_the_application_carries_the_configured_rules(make_app):
    app = make_app(CONDUCT_DEADLINE_FINDING_DAYS="60")
    assert app.extensions["conduct_settings"].deadline_finding_days == 60

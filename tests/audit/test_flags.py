"""Flags for unusual access: each fires on a constructed history and stays quiet on a normal one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conduct.audit.models import AuditEvent
from conduct.cases.models import CaseRecusal
from conduct.config import ConfigurationError, load_settings
from conduct.core.db import db, unit_of_work, utcnow
from tests.audit.conftest import case_ref, moment
from tests.factories import make_case

MARCH = {"since": "2026-03-01", "until": "2026-03-31"}


def _flags(people, kind=None, **period):
    params = {**(period or MARCH), **({"kind": kind} if kind else {})}
    response = people.auditor.get("/api/v1/audit/flags", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["flags"]


def _reads(history, actor, start, cases, every_seconds):
    """``actor`` reads cases 1..cases, one every ``every_seconds`` from ``start``."""
    return [
        history(
            "case.read",
            at=moment(start) + timedelta(seconds=every_seconds * n),
            actor=actor,
            case=case_ref(n + 1),
        )
        for n in range(cases)
    ]


def _normal_week(history, officer):
    """Working hours, a few cases, nothing refused, nothing exported."""
    for day in range(2, 7):  # Monday 2 to Friday 6 March 2026
        for hour in (9, 11, 15):
            for number in (1, 2):
                history(
                    "case.read",
                    at=moment(f"2026-03-0{day} {hour:02d}:00"),
                    actor=officer,
                    case=case_ref(number),
                )
        history("login.succeeded", at=moment(f"2026-03-0{day} 08:30"), actor=officer)


def test_a_normal_week_raises_no_flag(people, history):
    _normal_week(history, people.officers[0])
    assert _flags(people) == []


def test_many_cases_in_a_short_time(people, history):
    alice, bob = people.officers
    burst = _reads(history, alice, "2026-03-03 10:00", cases=20, every_seconds=25)
    _reads(history, bob, "2026-03-03 10:00", cases=19, every_seconds=25)  # one short
    _reads(history, bob, "2026-03-04 10:00", cases=20, every_seconds=60)  # spread over 19 min
    [flag] = _flags(people, "many_cases")
    assert flag["actor_id"] == str(alice.id) and flag["actor_email"] == alice.email
    assert flag["event_ids"] == burst and flag["event_count"] == 20
    assert flag["detail"] == {"cases": 20, "threshold": 20, "window_minutes": 10}
    assert flag["first_at"].startswith("2026-03-03T10:00:00")
    assert flag["last_at"].startswith("2026-03-03T10:07:55")


def test_separate_bursts_are_separate_flags_and_rereads_do_not_count(people, history):
    alice = people.officers[0]
    _reads(history, alice, "2026-03-03 10:00", cases=25, every_seconds=10)
    _reads(history, alice, "2026-03-03 14:00", cases=22, every_seconds=10)
    for n in range(40):  # one case read forty times is not many cases
        history(
            "case.read",
            at=moment("2026-03-05 10:00") + timedelta(seconds=n),
            actor=alice,
            case=case_ref(1),
        )
    flags = _flags(people, "many_cases")
    assert [flag["event_count"] for flag in flags] == [22, 25]
    assert [flag["detail"]["cases"] for flag in flags] == [22, 25]


@pytest.mark.parametrize(
    "app_settings",
    [{"CONDUCT_AUDIT_FLAG_CASES": "3", "CONDUCT_AUDIT_FLAG_WINDOW_MINUTES": "1"}],
)
def test_many_cases_thresholds_come_from_the_settings(people, history):
    alice = people.officers[0]
    _reads(history, alice, "2026-03-03 10:00", cases=3, every_seconds=20)
    _reads(history, alice, "2026-03-03 11:00", cases=3, every_seconds=40)  # 80 s: too slow
    [flag] = _flags(people, "many_cases")
    assert flag["event_count"] == 3 and flag["detail"]["window_minutes"] == 1


@pytest.fixture
def minusca_case(app):
    with app.app_context(), unit_of_work():
        case = make_case()
        return case.id, case.reference


def test_an_attempt_outside_ones_missions_answers_404_and_is_flagged(
    app, people, user_factory, api_login, minusca_case
):
    case_id, reference = minusca_case
    outsider_id, outsider_email = user_factory(roles=("officer",), missions=("MONUSCO",))
    outsider = app.test_client()
    assert api_login(outsider, outsider_id).status_code == 200
    attempt = outsider.get(f"/api/v1/cases/{reference}")
    missing = outsider.get("/api/v1/cases/MINUSCA-2026-0999")
    assert attempt.status_code == missing.status_code == 404
    assert attempt.get_json() == missing.get_json(), "nothing tells the case exists"
    with app.app_context():
        refusal = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.case_reference == reference)
            .where(AuditEvent.action == "request.refused")
        ).one()
        assert (refusal.outcome, refusal.fields) == ("denied", "mission")
        assert refusal.case_id == case_id and refusal.actor_id == outsider_id
    today = {"since": (utcnow() - timedelta(hours=1)).isoformat()}
    [flag] = _flags(people, "outside_missions", **today)
    assert flag["actor_email"] == outsider_email
    assert flag["detail"] == {"cases": [reference]}
    assert flag["event_ids"] == [refusal.id]


def test_refusals_inside_ones_missions_are_not_outside_missions(
    app, people, user_factory, api_login, minusca_case
):
    case_id, reference = minusca_case
    recused_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    with app.app_context(), unit_of_work():
        db.session.add(CaseRecusal(case_id=case_id, user_id=recused_id))
    client = app.test_client()
    assert api_login(client, recused_id).status_code == 200
    assert client.get(f"/api/v1/cases/{reference}").status_code == 403
    today = {"since": (utcnow() - timedelta(hours=1)).isoformat()}
    assert _flags(people, "outside_missions", **today) == []
    [denial] = _flags(people, "denials", **today)
    assert denial["actor_id"] == str(recused_id)


def test_denials(people, history):
    alice, bob = people.officers
    refused = [
        history(
            "request.refused",
            at=moment(f"2026-03-0{day} 10:00"),
            actor=bob,
            outcome="denied",
            object_type="endpoint",
            object_id="admin.users",
        )
        for day in (3, 4)
    ]
    history(
        "request.refused",
        at=moment("2026-03-05 10:00"),
        actor=alice,
        outcome="invalid",
        object_type="endpoint",
        object_id="cases_api.create_case",
        fields=["category"],
    )
    history("case.read", at=moment("2026-03-05 10:00"), actor=alice, case=case_ref(1))
    [flag] = _flags(people, "denials")
    assert flag["actor_id"] == str(bob.id)
    assert flag["event_ids"] == refused
    assert flag["detail"] == {"actions": {"request.refused": 2}}


@pytest.mark.parametrize("app_settings", [{"CONDUCT_AUDIT_FLAG_DENIALS": "3"}])
def test_the_denial_threshold_comes_from_the_settings(people, history):
    bob = people.officers[1]
    for day in (3, 4):
        history("request.refused", at=moment(f"2026-03-0{day} 10:00"), actor=bob, outcome="denied")
    assert _flags(people, "denials") == []
    history("request.refused", at=moment("2026-03-05 10:00"), actor=bob, outcome="denied")
    assert len(_flags(people, "denials")) == 1


def test_access_at_unusual_hours(people, history):
    alice = people.officers[0]
    history("case.read", at=moment("2026-03-02 09:00"), actor=alice, case=case_ref(1))  # Mon
    night = [
        history("case.read", at=moment("2026-03-03 02:10"), actor=alice, case=case_ref(1)),
        history("case.read", at=moment("2026-03-03 02:40"), actor=alice, case=case_ref(2)),
    ]
    evening = history("case.read", at=moment("2026-03-03 19:00"), actor=alice, case=case_ref(3))
    saturday = history("case.read", at=moment("2026-03-07 11:00"), actor=alice, case=case_ref(1))
    history("case.create", at=moment("2026-03-08 03:00"), case=case_ref(4))  # no account
    flags = _flags(people, "unusual_hours")
    assert [(flag["detail"]["date"], flag["event_ids"]) for flag in flags] == [
        ("2026-03-07", [saturday]),
        ("2026-03-03", [*night, evening]),
    ]
    assert flags[0]["detail"]["working_day"] is False
    assert flags[1]["detail"] == {"date": "2026-03-03", "working_day": True, "timezone": "UTC"}


@pytest.mark.parametrize(
    "app_settings",
    [{"CONDUCT_AUDIT_TIMEZONE": "Asia/Tokyo", "CONDUCT_AUDIT_WORKING_HOURS": "08:00-18:00"}],
)
def test_working_hours_are_local_to_the_configured_zone(people, history):
    alice = people.officers[0]
    history("case.read", at=moment("2026-03-03 02:00"), actor=alice, case=case_ref(1))  # 11:00
    late = history("case.read", at=moment("2026-03-03 09:30"), actor=alice, case=case_ref(1))
    [flag] = _flags(people, "unusual_hours")
    assert flag["event_ids"] == [late] and flag["detail"]["timezone"] == "Asia/Tokyo"


def test_exports(people, history):
    alice, bob = people.officers
    first = history("audit.export.csv", at=moment("2026-03-03 10:00"), actor=alice)
    second = history("report.export", at=moment("2026-03-04 10:00"), actor=alice)
    command_line = history("audit.export", at=moment("2026-03-05 10:00"))
    history("case.read", at=moment("2026-03-05 10:00"), actor=bob, case=case_ref(1))
    flags = {flag["actor_id"]: flag for flag in _flags(people, "exports")}
    assert set(flags) == {str(alice.id), None}
    assert flags[str(alice.id)]["event_ids"] == [first, second]
    assert flags[str(alice.id)]["detail"] == {
        "actions": {"audit.export.csv": 1, "report.export": 1}
    }
    assert flags[None]["event_ids"] == [command_line]


def test_a_flags_link_lists_exactly_its_events(people, history):
    alice = people.officers[0]
    _reads(history, alice, "2026-03-03 10:00", cases=20, every_seconds=25)
    history("case.update", at=moment("2026-03-03 10:03"), actor=alice, case=case_ref(1))
    [flag] = _flags(people, "many_cases")
    listed = people.auditor.get(flag["events_url"] + "&per_page=100").get_json()
    assert sorted(item["id"] for item in listed["items"]) == sorted(flag["event_ids"])


def test_the_default_period_is_the_last_days_of_the_settings(people, history):
    alice = people.officers[0]
    recent = history("audit.export.csv", at=utcnow() - timedelta(days=6), actor=alice)
    history("audit.export.csv", at=utcnow() - timedelta(days=8), actor=alice)
    response = people.auditor.get("/api/v1/audit/flags", query_string={"kind": "exports"})
    [flag] = response.get_json()["flags"]
    assert flag["event_ids"] == [recent]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"kind": "odd"}, "kind"), ({"since": "soon"}, "since"), ({"actor": "x"}, "unknown_field")],
)
def test_bad_flag_filters_answer_400(people, params, field):
    response = people.auditor.get("/api/v1/audit/flags", query_string=params)
    assert response.status_code == 400
    fields = response.get_json()["error"]["fields"]
    assert field in fields or (field == "unknown_field" and set(params) <= set(fields))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONDUCT_AUDIT_WORKING_HOURS", "nine to five"),
        ("CONDUCT_AUDIT_WORKING_HOURS", "19:00-07:00"),
        ("CONDUCT_AUDIT_WORKING_DAYS", "monday"),
        ("CONDUCT_AUDIT_TIMEZONE", "Mars/Olympus"),
        ("CONDUCT_AUDIT_FLAG_CASES", "1"),
        ("CONDUCT_AUDIT_FLAG_WINDOW_MINUTES", "0"),
        ("CONDUCT_AUDIT_FLAG_DENIALS", "many"),
    ],
)
def test_flag_settings_are_checked_at_start(tmp_path, name, value):
    with pytest.raises(ConfigurationError, match=name):
        load_settings({"CONDUCT_INSTANCE_PATH": str(tmp_path), name: value}, environ={})

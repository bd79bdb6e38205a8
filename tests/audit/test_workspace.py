"""The auditor workspace API: filtered events, pages, a case's access, CSV, and its own audit."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from conduct.audit.models import AuditEvent
from conduct.core.db import db, unit_of_work
from tests.audit.conftest import case_ref, moment
from tests.factories import make_case

PAST = {"since": "2026-03-01", "until": "2026-03-31"}


@pytest.fixture
def past(people, history):
    """A March of events by two officers on three cases, and one command-line event."""
    alice, bob = people.officers
    ids = {
        "a_read_1": history(
            "case.read", at=moment("2026-03-02 09:00"), actor=alice, case=case_ref(1)
        ),
        "a_update_1": history(
            "case.update",
            at=moment("2026-03-03 10:00"),
            actor=alice,
            case=case_ref(1),
            fields=["narrative"],
        ),
        "b_read_2": history(
            "case.read", at=moment("2026-03-04 11:00"), actor=bob, case=case_ref(2)
        ),
        "b_denied_1": history(
            "request.refused",
            at=moment("2026-03-05 12:00"),
            actor=bob,
            case=case_ref(1),
            outcome="denied",
            fields=["mission"],
            object_type="endpoint",
            object_id="cases_api.get_case",
        ),
        "a_list": history("case.list", at=moment("2026-03-06 13:00"), actor=alice),
        "cli_create_3": history("case.create", at=moment("2026-03-07 14:00"), case=case_ref(3)),
        "a_read_3_april": history(
            "case.read", at=moment("2026-04-01 08:00"), actor=alice, case=case_ref(3)
        ),
    }
    return ids


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def _get(people, **params):
    return people.auditor.get("/api/v1/audit/events", query_string=params)


def test_events_come_newest_first_with_the_actors_email(people, past):
    response = _get(people, **PAST)
    assert _ids(response) == [
        past[name]
        for name in ("cli_create_3", "a_list", "b_denied_1", "b_read_2", "a_update_1", "a_read_1")
    ]
    items = {item["id"]: item for item in response.get_json()["items"]}
    update = items[past["a_update_1"]]
    assert update["actor_email"] == people.officers[0].email
    assert update["actor_roles"] == ["officer"] and update["fields"] == ["narrative"]
    assert update["case_reference"] == "MINUSCA-2026-0001"
    assert items[past["cli_create_3"]]["actor_id"] is None
    assert items[past["cli_create_3"]]["actor_email"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action": "case.read"}, ["b_read_2", "a_read_1"]),
        ({"action": "case."}, ["cli_create_3", "a_list", "b_read_2", "a_update_1", "a_read_1"]),
        ({"action": "case.*"}, ["cli_create_3", "a_list", "b_read_2", "a_update_1", "a_read_1"]),
        ({"outcome": "denied"}, ["b_denied_1"]),
        ({"case": "MINUSCA-2026-0001"}, ["b_denied_1", "a_update_1", "a_read_1"]),
        ({"case": str(case_ref(3).id)}, ["cli_create_3"]),
        ({"since": "2026-03-04", "until": "2026-03-05"}, ["b_denied_1", "b_read_2"]),
        ({"since": "2026-03-04T11:00:00Z", "until": "2026-03-05T11:59:59"}, ["b_read_2"]),
        ({"since": "2026-03-04T12:00:00+01:00", "until": "2026-03-04T11:00:00Z"}, ["b_read_2"]),
        ({"since": "2026-03-04T11:00:00.000001Z", "until": "2026-03-04T23:00"}, []),
    ],
)
def test_each_filter(people, past, params, expected):
    query = {**PAST, **params}
    if "since" in params:
        query = params
    assert _ids(_get(people, **query)) == [past[name] for name in expected]


def test_the_actor_filter_takes_an_id_or_an_email(people, past):
    alice, bob = people.officers
    expected = [past["a_list"], past["a_update_1"], past["a_read_1"]]
    assert _ids(_get(people, actor=str(alice.id), **PAST)) == expected
    assert _ids(_get(people, actor=alice.email.upper(), **PAST)) == expected
    assert _ids(_get(people, actor=bob.email, outcome="success", **PAST)) == [past["b_read_2"]]


def test_an_action_prefix_is_not_a_pattern(people, history):
    history("mfa.code_shown", at=moment("2026-03-02 09:00"))
    history("mfa.codexshown", at=moment("2026-03-02 09:01"))
    assert len(_ids(_get(people, action="mfa.code_shown", **PAST))) == 1
    assert len(_ids(_get(people, action="mfa.", **PAST))) == 2


def test_keyset_pages_cover_every_event_once(people, history):
    alice = people.officers[0]
    same_moment = moment("2026-03-10 10:00")
    made = [history("case.read", at=same_moment, actor=alice, case=case_ref(n)) for n in (1, 2, 3)]
    made += [
        history("case.read", at=moment(f"2026-03-1{day} 10:00"), actor=alice, case=case_ref(4))
        for day in (1, 2, 3, 4)
    ]
    expected = sorted(made[3:], reverse=True) + sorted(made[:3], reverse=True)
    seen, cursor, pages = [], None, 0
    while True:
        params = {**PAST, "per_page": 3, **({"cursor": cursor} if cursor else {})}
        body = _get(people, **params).get_json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert "cursor=" in body["next"]
        # An event recorded meanwhile does not shift the next page.
        history("case.read", at=moment("2026-03-20 10:00"), actor=alice, case=case_ref(5))
    assert pages == 3
    assert seen == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"actor": "nobody@conduct.test"}, "actor"),
        ({"actor": "x" * 300}, "actor"),
        ({"case": "Jean Dupont"}, "case"),
        ({"action": "Case Read"}, "action"),
        ({"outcome": "maybe"}, "outcome"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "2026-03-05", "until": "2026-03-01"}, "until"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "lots"}, "per_page"),
        ({"cursor": "abc"}, "cursor"),
        ({"cursor": "99999999999999999999-1"}, "cursor"),
        ({"colour": "red"}, "unknown_field"),
    ],
)
def test_bad_filters_answer_400_naming_the_field(app, people, params, field):
    response = _get(people, **params)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"] or (field == "unknown_field" and "colour" in error["fields"])
    with app.app_context():
        refusal = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "request.refused")
        ).one()
        assert refusal.actor_id == people.auditor_id and refusal.outcome == "invalid"
        assert "red" not in refusal.fields and "Jean" not in refusal.fields


@pytest.mark.parametrize("roles", [("officer",), ("admin",), ("leadership",), ("vetting",)])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/audit/events",
        "/api/v1/audit/events.csv",
        "/api/v1/audit/cases/MINUSCA-2026-0001/access",
        "/api/v1/audit/flags",
        "/audit/events",
        "/audit/cases/MINUSCA-2026-0001",
        "/audit/flags",
    ],
)
def test_only_auditors_reach_the_workspace(app, user_factory, api_login, roles, path):
    user_id, _ = user_factory(roles=roles, missions=("MINUSCA",))
    client = app.test_client()
    assert api_login(client, user_id).status_code == 200
    assert client.get(path).status_code == 403


def test_anonymous_requests_are_sent_to_log_in(client):
    assert client.get("/api/v1/audit/events").status_code == 401
    page = client.get("/audit/events")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_who_accessed_a_case(people, past):
    alice, bob = people.officers
    response = people.auditor.get("/api/v1/audit/cases/MINUSCA-2026-0001/access")
    assert response.status_code == 200
    body = response.get_json()
    assert body["reference"] == "MINUSCA-2026-0001"
    accounts = {row["actor_email"]: row for row in body["accounts"]}
    assert set(accounts) == {alice.email, bob.email}
    assert accounts[alice.email] | {"first_at": None, "last_at": None} == {
        "actor_id": str(alice.id),
        "actor_email": alice.email,
        "first_at": None,
        "last_at": None,
        "events": 2,
        "refused": 0,
        "actions": {"case.read": 1, "case.update": 1},
    }
    assert accounts[alice.email]["first_at"].startswith("2026-03-02T09:00")
    assert accounts[alice.email]["last_at"].startswith("2026-03-03T10:00")
    assert accounts[bob.email]["refused"] == 1
    assert accounts[bob.email]["actions"] == {"request.refused": 1}
    # The most recent access comes first.
    assert [row["actor_email"] for row in body["accounts"]] == [bob.email, alice.email]


def test_a_case_access_page_for_a_case_without_events_is_empty(people):
    response = people.auditor.get("/api/v1/audit/cases/UNMISS-2026-0042/access")
    assert response.status_code == 200
    assert response.get_json()["accounts"] == []
    assert people.auditor.get("/api/v1/audit/cases/not-a-case/access").status_code == 400


def test_the_csv_export_has_the_header_and_every_row_and_is_audited(app, people, past):
    response = people.auditor.get(
        "/api/v1/audit/events.csv", query_string={**PAST, "action": "case."}
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["id", "occurred_at", "action", "outcome"]
    assert "actor_email" in rows[0] and "case_reference" in rows[0]
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [int(row["id"]) for row in body] == [
        past[name] for name in ("cli_create_3", "a_list", "b_read_2", "a_update_1", "a_read_1")
    ]
    update = next(row for row in body if int(row["id"]) == past["a_update_1"])
    assert update["actor_email"] == people.officers[0].email
    assert update["fields"] == "narrative" and update["case_reference"] == "MINUSCA-2026-0001"
    with app.app_context():
        export = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "audit.export.csv")
        ).one()
        assert export.actor_id == people.auditor_id
        assert export.fields.split(",") == ["action", "since", "until"]


def test_the_csv_export_streams_past_one_batch(app, people, history, monkeypatch):
    from conduct.audit import workspace

    monkeypatch.setattr(workspace, "EXPORT_BATCH", 4)
    alice = people.officers[0]
    made = [
        history("case.read", at=moment(f"2026-03-{day:02d} 10:00"), actor=alice, case=case_ref(day))
        for day in range(1, 11)
    ]
    response = people.auditor.get("/api/v1/audit/events.csv", query_string=PAST)
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert [int(row[0]) for row in rows[1:]] == sorted(made, reverse=True)


def test_the_auditors_own_reads_are_events(app, people, past):
    alice = people.officers[0]
    _get(people, actor=alice.email, action="case.read", **PAST)
    people.auditor.get("/api/v1/audit/cases/MINUSCA-2026-0001/access")
    people.auditor.get("/api/v1/audit/flags", query_string={"kind": "denials"})
    body = _get(people, actor=str(people.auditor_id), action="audit.").get_json()
    events = {item["action"]: item for item in body["items"]}
    assert set(events) == {"audit.events.read", "audit.case_access.read", "audit.flags.read"}
    listed = events["audit.events.read"]
    assert listed["fields"] == ["action", "actor", "since", "until"]
    # The account filtered on is an id, kept as the event's object; the email never is.
    assert listed["object_type"] == "account" and listed["object_id"] == str(alice.id)
    assert alice.email not in str(listed)
    access = events["audit.case_access.read"]
    assert access["case_reference"] == "MINUSCA-2026-0001" and access["object_type"] == "case"
    assert events["audit.flags.read"]["fields"] == ["kind"]
    # The auditor's reading of a case's access shows in that case's access list.
    again = people.auditor.get("/api/v1/audit/cases/MINUSCA-2026-0001/access").get_json()
    auditor_row = next(r for r in again["accounts"] if r["actor_id"] == str(people.auditor_id))
    assert auditor_row["actions"] == {"audit.case_access.read": 1}


def test_answers_match_the_openapi_spec(app, people, past, api_login):
    from tests.core.test_openapi import CheckedClient

    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    checked = CheckedClient(app, spec)
    assert api_login(checked.client, people.auditor_id).status_code == 200
    first = checked.get("/api/v1/audit/events?per_page=2&since=2026-03-01").get_json()
    checked.get(first["next"])
    checked.get("/api/v1/audit/events?outcome=sometimes")
    checked.get("/api/v1/audit/cases/MINUSCA-2026-0001/access")
    checked.get("/api/v1/audit/cases/UNMISS-2026-0042/access")
    checked.get("/api/v1/audit/flags?since=2026-03-01&until=2026-03-31")
    csv_answer = checked.client.get("/api/v1/audit/events.csv")
    assert csv_answer.get_data(as_text=True).startswith("id,occurred_at,")
    assert (
        csv_answer.mimetype
        in spec["paths"]["/api/v1/audit/events.csv"]["get"]["responses"]["200"]["content"]
    )


def test_a_real_case_is_found_by_reference_or_id(app, people, user_factory, api_login):
    with app.app_context(), unit_of_work():
        case = make_case()
        reference, case_id = case.reference, case.id
    officer_id, officer_email = user_factory(roles=("officer",), missions=("MINUSCA",))
    officer = app.test_client()
    assert api_login(officer, officer_id).status_code == 200
    assert officer.get(f"/api/v1/cases/{reference}").status_code == 200
    by_reference = _get(people, case=reference, action="case.").get_json()["items"]
    assert [item["action"] for item in by_reference] == ["case.read", "case.create"]
    by_id = _get(people, case=str(case_id), action="case.")
    assert _ids(by_id) == [item["id"] for item in by_reference]
    access = people.auditor.get(f"/api/v1/audit/cases/{reference}/access").get_json()
    assert access["case_id"] == str(case_id)
    rows = {row["actor_email"]: row["actions"] for row in access["accounts"]}
    assert rows == {
        officer_email: {"case.read": 1},
        None: {"case.create": 1},
        # The auditor's two lists filtered on the case are reads of the case's log.
        people.auditor_email: {"audit.events.read": 2},
    }

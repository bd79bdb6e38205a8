"""The workflow: every move of the transition table, every refused move, each requirement."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from conduct import codes
from conduct.audit.models import AuditEvent
from conduct.cases.models import Case, Finding, Referral
from conduct.cases.workflow import (
    MOVES,
    REQUIREMENTS,
    allowed_moves,
    find_move,
    transition_case,
    workflow_markdown,
)
from conduct.core.db import db
from conduct.core.errors import Forbidden, ValidationFailed, VersionConflict
from tests.factories import make_case, make_person, make_user

DOCS = Path(__file__).resolve().parents[2] / "docs" / "workflow.md"
ROUTES = {(move.from_status, move.to_status) for move in MOVES}
REFUSED = sorted(set(itertools.product(codes.STATUS.codes, repeat=2)) - ROUTES)
REASON = "Entity declined: SECRET-REASON-TEXT"


def _id(route) -> str:
    return f"{route[0]}->{route[1]}"


def add_referral(case, purpose="investigation", entity="oios", **fields):
    referral = Referral(
        case=case,
        purpose=purpose,
        entity=entity,
        status="sent",
        referred_on=fields.pop("referred_on", date(2026, 3, 4)),
        **fields,
    )
    db.session.add(referral)
    db.session.flush()
    return referral


def add_subject(case, finding=None):
    subject = make_person(case, role="subject", full_name="Subject Person", sex="male")
    if finding is not None:
        db.session.add(Finding(case=case, person_id=subject.id, finding=finding, actions=[]))
        db.session.flush()
    return subject


def case_ready_for(officer, status: str, to: str):
    """A case of ``officer``'s team in ``status``, with every fact a move to ``to`` may need."""
    case = make_case(officer)
    case.status = status
    add_referral(case, entity="tcc_pcc_nio")
    if to in ("substantiated", "not_substantiated"):
        add_subject(case, finding=to)
    db.session.flush()
    return case


@pytest.fixture
def officer(work):
    with work():
        return make_user(("officer",), ("MINUSCA",))


def transition_events():
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "case.transition")
    ).all()


# -- the table itself ------------------------------------------------------------------------


def test_every_status_code_in_the_table_is_a_status():
    for move in MOVES:
        assert move.from_status in codes.STATUS and move.to_status in codes.STATUS
        assert move.permission == "case:transition"
        assert set(move.requires) <= set(REQUIREMENTS)
    assert len(ROUTES) == len(MOVES), "a route appears twice in the table"


def test_closing_and_backward_moves_need_a_reason():
    for move in MOVES:
        assert move.needs_reason == (move.is_closing or move.is_backwards), move


def test_every_status_but_closed_has_a_way_on_and_closed_is_final():
    for status in codes.STATUS.codes:
        onward = [move for move in MOVES if move.from_status == status]
        assert bool(onward) is (status != "closed"), status


def test_the_docs_show_the_table_in_code():
    assert workflow_markdown() in DOCS.read_text()


# -- each allowed move -----------------------------------------------------------------------


@pytest.mark.parametrize("move", MOVES, ids=lambda move: _id((move.from_status, move.to_status)))
def test_each_allowed_move_is_made_and_recorded(work, officer, move):
    with work():
        case = case_ready_for(officer, move.from_status, move.to_status)
        version = case.version
        change = transition_case(officer, case, move.to_status, REASON)
        assert case.status == move.to_status
        assert case.version == version + 1
        assert (change.from_status, change.to_status) == (move.from_status, move.to_status)
        assert change.reason == REASON and change.by_user_id == officer.id
        case_id = case.id
    with work():
        case = db.session.get(Case, case_id)
        assert case.status == move.to_status
        assert [(c.from_status, c.to_status, c.reason) for c in case.history] == [
            (move.from_status, move.to_status, REASON)
        ]
        (event,) = transition_events()
        assert event.fields == "reason,status" and event.case_id == case_id


# -- each refused move -----------------------------------------------------------------------


@pytest.mark.parametrize("route", REFUSED, ids=_id)
def test_each_move_not_in_the_table_is_refused_naming_to(work, officer, route):
    start, end = route
    with work():
        case = case_ready_for(officer, start, end)
        with pytest.raises(ValidationFailed) as refused:
            transition_case(officer, case, end, REASON)
        assert list(refused.value.fields) == ["to"]
        allowed = [move.to_status for move in MOVES if move.from_status == start]
        message = refused.value.fields["to"][0]
        assert "allowed next statuses" in message
        assert all(status in message for status in allowed)
        assert case.status == start and case.history == []
        assert transition_events() == []


# -- each requirement ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "move",
    [move for move in MOVES if move.needs_reason],
    ids=lambda move: _id((move.from_status, move.to_status)),
)
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_move_that_needs_a_reason_is_refused_without_one(work, officer, move, reason):
    with work():
        case = case_ready_for(officer, move.from_status, move.to_status)
        with pytest.raises(ValidationFailed) as refused:
            transition_case(officer, case, move.to_status, reason)
        assert list(refused.value.fields) == ["reason"]
        assert case.status == move.from_status


def test_a_reason_is_optional_on_plain_forward_moves(work, officer):
    with work():
        case = make_case(officer)
        change = transition_case(officer, case, "preliminary_assessment")
        assert change.reason is None
        (event,) = transition_events()
        assert event.fields == "status"


@pytest.mark.parametrize(
    "move",
    [move for move in MOVES if "investigation_referral" in move.requires],
    ids=lambda move: _id((move.from_status, move.to_status)),
)
def test_an_investigation_referral_is_required(work, officer, move):
    with work():
        case = make_case(officer)
        case.status = move.from_status
        add_referral(case, purpose="medical", entity="medical", consent="given")
        with pytest.raises(ValidationFailed) as refused:
            transition_case(officer, case, move.to_status, REASON)
        assert list(refused.value.fields) == ["referrals"]
        assert "purpose investigation" in refused.value.fields["referrals"][0]
        add_referral(case, purpose="investigation", entity="oios")
        transition_case(officer, case, move.to_status, REASON)
        assert case.status == move.to_status


@pytest.mark.parametrize("start", ["referred", "under_investigation"])
def test_pending_member_state_needs_a_referral_to_the_member_state(work, officer, start):
    with work():
        case = make_case(officer)
        case.status = start
        add_referral(case, entity="oios")
        with pytest.raises(ValidationFailed) as refused:
            transition_case(officer, case, "pending_member_state")
        assert list(refused.value.fields) == ["referrals"]
        add_referral(case, entity="member_state")
        transition_case(officer, case, "pending_member_state")
        assert case.status == "pending_member_state"


@pytest.mark.parametrize("outcome", ["substantiated", "not_substantiated"])
@pytest.mark.parametrize(
    ("findings", "allowed"),
    [
        ((), False),  # no subject at all
        ((None,), False),  # a subject without a finding
        (("same",), True),
        (("same", None), False),  # every subject needs a finding
        (("same", "closed_other"), True),
        (("substantiated", "not_substantiated"), "substantiated"),
        (("closed_other",), False),
    ],
)
def test_outcomes_need_findings_for_every_subject(work, officer, outcome, findings, allowed):
    with work():
        case = make_case(officer)
        case.status = "under_investigation"
        add_referral(case)
        for finding in findings:
            add_subject(case, finding=outcome if finding == "same" else finding)
        expected = allowed if isinstance(allowed, bool) else allowed == outcome
        if expected:
            transition_case(officer, case, outcome)
            assert case.status == outcome
        else:
            with pytest.raises(ValidationFailed) as refused:
                transition_case(officer, case, outcome)
            assert list(refused.value.fields) == ["findings"]


def test_several_problems_are_named_together(work, officer):
    with work():
        case = make_case(officer)
        case.status = "pending_member_state"
        with pytest.raises(ValidationFailed) as refused:
            transition_case(officer, case, "under_investigation", None)
        assert sorted(refused.value.fields) == ["reason", "referrals"]


def test_a_user_without_the_permission_is_refused(work, officer):
    with work():
        case = make_case(officer)
        leader = make_user(("leadership",), ("MINUSCA",))
        with pytest.raises(Forbidden):
            transition_case(leader, case, "preliminary_assessment")
        assert case.status == "received"


def test_an_officer_of_the_mission_off_the_case_team_is_refused(work, officer):
    with work():
        case = make_case()
        with pytest.raises(Forbidden):
            transition_case(officer, case, "preliminary_assessment")
        assert case.status == "received" and case.history == []


def test_a_stale_version_is_a_conflict(work, officer):
    with work():
        case = make_case(officer)
        with pytest.raises(VersionConflict):
            transition_case(officer, case, "preliminary_assessment", version=case.version + 1)
        transition_case(officer, case, "preliminary_assessment", version=case.version)


# -- history and audit -----------------------------------------------------------------------


def test_history_keeps_every_step_in_order(work, officer):
    path = [
        ("preliminary_assessment", None),
        ("closed_other", "Duplicate of an earlier report"),
        ("preliminary_assessment", "The earlier report was about another incident"),
        ("referred", None),
        ("under_investigation", None),
        ("referred", "Investigator asked for the referral to go to OIOS"),
        ("under_investigation", None),
    ]
    with work():
        case = make_case(officer)
        add_referral(case)
        for to, reason in path:
            transition_case(officer, case, to, reason)
        case_id = case.id
    with work():
        case = db.session.get(Case, case_id)
        steps = [(change.to_status, change.reason) for change in case.history]
        assert steps == path
        froms = [change.from_status for change in case.history]
        assert froms == ["received", *[to for to, _ in path[:-1]]]
        times = [change.at for change in case.history]
        assert times == sorted(times)
        assert len(transition_events()) == len(path)


def test_the_audit_event_names_fields_and_holds_no_value(work, officer):
    with work():
        case = make_case(officer)
        case.status = "preliminary_assessment"
        transition_case(officer, case, "closed_other", REASON)
    with work():
        (event,) = transition_events()
        stored = " ".join(
            str(getattr(event, column.key)) for column in AuditEvent.__table__.columns
        )
        assert event.fields == "reason,status"
        for value in ("closed_other", "preliminary_assessment", "SECRET-REASON-TEXT"):
            assert value not in stored


def test_the_reason_is_not_stored_in_clear(work, officer, app):
    with work():
        case = make_case(officer)
        case.status = "preliminary_assessment"
        transition_case(officer, case, "closed_other", REASON)
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT * FROM status_changes").fetchall()
    assert rows and "SECRET-REASON-TEXT" not in repr(rows) and "closed_other" not in repr(rows)


def test_allowed_moves_follow_the_table(work, officer):
    with work():
        case = make_case(officer)
        assert [move.to_status for move in allowed_moves(case)] == [
            "preliminary_assessment",
            "referred",
            "closed_other",
        ]
        case.status = "closed"
        assert allowed_moves(case) == []
        assert find_move("closed", "received") is None


# -- the API ---------------------------------------------------------------------------------


@pytest.fixture
def api_case(app, user_factory, api_login, client):
    """A MINUSCA case with an investigation referral, and a logged-in officer of its team."""
    from conduct.cases.models import CaseTeamMember
    from conduct.core.db import unit_of_work

    officer_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    with app.app_context(), unit_of_work():
        case = make_case()
        case.team.append(CaseTeamMember(user_id=officer_id))
        add_referral(case)
        reference = case.reference
    assert api_login(client, officer_id).status_code == 200
    return SimpleNamespace(reference=reference, officer_id=officer_id)


def test_api_moves_a_case_and_answers_the_history_item(app, client, api_case):
    url = f"/api/v1/cases/{api_case.reference}/transitions"
    answer = client.post(url, json={"to": "preliminary_assessment"})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "preliminary_assessment" and body["version"] == 2
    item = body["transition"]
    assert item["from"] == "received" and item["to"] == "preliminary_assessment"
    assert item["by"] == str(api_case.officer_id) and item["reason"] is None and item["at"]

    answer = client.post(url, json={"to": "closed_other", "reason": REASON, "version": 2})
    assert answer.status_code == 201
    assert answer.get_json()["transition"]["reason"] == REASON

    case = client.get(f"/api/v1/cases/{api_case.reference}").get_json()
    assert case["status"] == "closed_other" and case["version"] == 3
    assert [(h["from"], h["to"]) for h in case["history"]] == [
        ("received", "preliminary_assessment"),
        ("preliminary_assessment", "closed_other"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "to"),
        ({"to": "genocide"}, "to"),
        ({"to": "closed"}, "to"),
        ({"to": "closed_other"}, "reason"),
        ({"to": "closed_other", "reason": "   "}, "reason"),
        ({"to": "closed_other", "reason": "x" * 5001}, "reason"),
        ({"to": "substantiated"}, "to"),
        ({"to": "preliminary_assessment", "version": "two"}, "version"),
    ],
)
def test_api_refuses_bad_moves_with_400_naming_the_field(app, client, api_case, body, field):
    answer = client.post(f"/api/v1/cases/{api_case.reference}/transitions", json=body)
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    case = client.get(f"/api/v1/cases/{api_case.reference}").get_json()
    assert case["status"] == "received" and case["history"] == []


def test_api_refusal_lists_the_allowed_next_statuses(app, client, api_case):
    answer = client.post(
        f"/api/v1/cases/{api_case.reference}/transitions", json={"to": "closed", "reason": "x"}
    )
    message = answer.get_json()["error"]["fields"]["to"][0]
    assert "preliminary_assessment, referred, closed_other" in message


def test_api_stale_version_is_409(app, client, api_case):
    answer = client.post(
        f"/api/v1/cases/{api_case.reference}/transitions",
        json={"to": "preliminary_assessment", "version": 7},
    )
    assert answer.status_code == 409


def test_api_refuses_users_outside_the_case_team(app, user_factory, api_login, api_case):
    url = f"/api/v1/cases/{api_case.reference}/transitions"
    for roles, missions, status in (
        (("officer",), ("MONUSCO",), 404),
        (("officer",), ("MINUSCA",), 403),  # in scope, not on the case team
        (("leadership",), (), 403),
    ):
        other = app.test_client()
        user_id, _ = user_factory(roles=roles, missions=missions)
        assert api_login(other, user_id).status_code == 200
        assert other.post(url, json={"to": "preliminary_assessment"}).status_code == status


def test_api_deadlines_answer_overdue_items_and_next_dates(app, client, api_case):
    answer = client.get(f"/api/v1/cases/{api_case.reference}/deadlines")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["reference"] == api_case.reference
    # Received 2 March 2026, referred for investigation on 4 March: a finding is due 2 June.
    awaited = body["overdue"] + body["upcoming"]
    assert [(d["kind"], d["due_on"]) for d in awaited] == [("finding", "2026-06-02")]
    assert all(set(d) == {"kind", "due_on", "days_overdue"} for d in body["overdue"])
    with app.app_context():
        (event,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.deadlines")
        ).all()
        assert event.case_reference == api_case.reference and "status" in event.fields


def test_api_deadlines_include_answers_awaited_to_referrals_with_a_due_date(app, client, api_case):
    from datetime import timedelta

    from conduct.core.db import unit_of_work, utcnow

    today = utcnow().date()
    late, ahead = today - timedelta(days=3), today + timedelta(days=20)
    with app.app_context(), unit_of_work():
        case = db.session.scalars(select(Case).where(Case.reference == api_case.reference)).one()
        add_referral(case, purpose="medical", entity="medical", due_on=late)
        add_referral(case, purpose="legal", entity="legal", due_on=ahead)
        add_referral(
            case, purpose="psychosocial", entity="psychosocial", due_on=late, acknowledged_on=today
        )
    body = client.get(f"/api/v1/cases/{api_case.reference}/deadlines").get_json()
    answers = [d for d in body["overdue"] if d["kind"] == "referral_answer"]
    assert answers == [{"kind": "referral_answer", "due_on": late.isoformat(), "days_overdue": 3}]
    assert [d for d in body["upcoming"] if d["kind"] == "referral_answer"] == [
        {"kind": "referral_answer", "due_on": ahead.isoformat()}
    ]
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.deadlines")
        ).one()
        assert {"referrals.due_on", "referrals.status"} <= set(event.fields.split(","))

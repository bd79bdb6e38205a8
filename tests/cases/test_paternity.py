"""Paternity and child-support claims through the API."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conduct.audit.models import AuditEvent
from conduct.cases.models import CaseTeamMember, PaternityClaim
from conduct.core.db import db, unit_of_work
from tests.factories import make_case, make_person

CLAIM = {"status": "claim_received", "filed_on": "2026-04-01", "details": "Child born 2026-01"}


def _client(app, api_login, user_id):
    client = app.test_client()
    assert api_login(client, user_id).status_code == 200
    return client


@pytest.fixture
def officer(app, user_factory, api_login):
    user_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    client = _client(app, api_login, user_id)
    client.user_id = user_id
    return client


@pytest.fixture
def case(app, officer):
    with app.app_context(), unit_of_work():
        case = make_case()
        case.team.append(CaseTeamMember(user_id=officer.user_id))
        victim = make_person(case)
        witness = make_person(case, role="witness", full_name="A witness")
        return {"reference": case.reference, "victim": str(victim.id), "witness": str(witness.id)}


def _url(case, tail=""):
    return f"/api/v1/cases/{case['reference']}/paternity-claims{tail}"


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PaternityClaim))


def _event(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()[-1]


def test_the_team_records_a_claim_and_the_case_read_lists_it(app, officer, case):
    response = officer.post(_url(case), json={**CLAIM, "person_id": case["victim"]})
    assert response.status_code == 201, response.get_json()
    claim = response.get_json()
    assert claim["status"] == "claim_received" and claim["person_id"] == case["victim"]
    assert claim["filed_on"] == "2026-04-01" and claim["details"] == "Child born 2026-01"
    event = _event(app, "paternity_claim.create")
    assert event.fields == "details,filed_on,person_id,status"
    assert event.object_id == claim["id"] and event.case_reference == case["reference"]
    assert "claim_received" not in str(vars(event)) and "Child" not in str(vars(event))

    read = officer.get(f"/api/v1/cases/{case['reference']}").get_json()
    assert read["paternity_claims"] == [claim]


def test_the_status_starts_as_received_and_moves_by_patch(app, officer, case):
    created = officer.post(_url(case), json={"filed_on": "2026-04-01"}).get_json()
    assert created["status"] == "claim_received" and created["person_id"] is None
    url = _url(case, f"/{created['id']}")
    moved = officer.patch(url, json={"status": "dna_requested"})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["status"] == "dna_requested"
    assert _event(app, "paternity_claim.update").fields == "status"
    linked = officer.patch(url, json={"person_id": case["victim"], "details": "DNA on 5 May"})
    assert linked.get_json()["person_id"] == case["victim"]
    assert _event(app, "paternity_claim.update").fields == "details,person_id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "claim_received"}, "filed_on"),
        ({**CLAIM, "status": "paid"}, "status"),
        ({**CLAIM, "status": None}, "status"),
        ({**CLAIM, "filed_on": "2099-01-01"}, "filed_on"),
        ({**CLAIM, "filed_on": "April"}, "filed_on"),
        ({**CLAIM, "person_id": "not-an-id"}, "person_id"),
        ({**CLAIM, "person_id": "00000000-0000-0000-0000-000000000000"}, "person_id"),
        ({**CLAIM, "person_id": "witness"}, "person_id"),
        ({**CLAIM, "child_name": "x"}, "unknown_field"),
        ({**CLAIM, "details": "x" * 20001}, "details"),
    ],
)
def test_a_bad_claim_is_a_400_naming_the_field(app, officer, case, body, field):
    if body.get("person_id") == "witness":
        body = {**body, "person_id": case["witness"]}
    response = officer.post(_url(case), json=body)
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert _count(app) == 0


def test_bad_changes_are_refused_and_leave_the_claim_as_it_was(app, officer, case):
    created = officer.post(_url(case), json=CLAIM).get_json()
    url = _url(case, f"/{created['id']}")
    for change, field in [
        ({}, "_schema"),
        ({"status": "lost"}, "status"),
        ({"filed_on": None}, "filed_on"),
        ({"person_id": case["witness"]}, "person_id"),
    ]:
        response = officer.patch(url, json=change)
        assert response.status_code == 400, (change, response.get_json())
        assert field in response.get_json()["error"]["fields"]
    assert officer.patch(_url(case, f"/{case['victim']}"), json=CLAIM).status_code == 404
    read = officer.get(f"/api/v1/cases/{case['reference']}").get_json()
    assert read["paternity_claims"] == [created]


def test_only_the_team_records_claims_and_others_see_no_details(
    app, officer, case, user_factory, api_login
):
    created = officer.post(_url(case), json=CLAIM).get_json()
    colleague = _client(app, api_login, user_factory(missions=("MINUSCA",))[0])
    outsider = _client(app, api_login, user_factory(missions=("MONUSCO",))[0])
    assert colleague.post(_url(case), json=CLAIM).status_code == 403
    assert colleague.patch(_url(case, f"/{created['id']}"), json=CLAIM).status_code == 403
    assert outsider.post(_url(case), json=CLAIM).status_code == 404
    [seen] = colleague.get(f"/api/v1/cases/{case['reference']}").get_json()["paternity_claims"]
    assert seen == {key: created[key] for key in ("id", "person_id", "status", "filed_on")}
    assert _count(app) == 1

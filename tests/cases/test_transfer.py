"""Transferring a case to another mission keeps its reference and history."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conduct.audit.models import AuditEvent
from conduct.core.db import db
from tests.cases.test_cases_api import NEW_CASE


@pytest.fixture
def team(app, user_factory, api_login):
    """An officer of UNAMID and UNITAMS with a UNAMID case they recorded."""
    user_id, _ = user_factory(roles=("officer",), missions=("UNAMID", "UNITAMS"))
    client = app.test_client()
    assert api_login(client, user_id).status_code == 200
    created = client.post("/api/v1/cases", json={**NEW_CASE, "mission": "UNAMID"})
    assert created.status_code == 201
    client.reference = created.get_json()["reference"]
    return client


def _officer(app, user_factory, api_login, missions):
    user_id, _ = user_factory(roles=("officer",), missions=missions)
    client = app.test_client()
    assert api_login(client, user_id).status_code == 200
    return client


def test_a_transfer_keeps_reference_and_history(app, team, user_factory, api_login):
    url = f"/api/v1/cases/{team.reference}"
    answer = team.post(url + "/transfer", json={"mission": "UNITAMS", "reason": "Mission closed."})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert (body["reference"], body["mission"], body["version"]) == (team.reference, "UNITAMS", 2)
    assert (body["transfer"]["from"], body["transfer"]["to"]) == ("UNAMID", "UNITAMS")
    case = team.get(url).get_json()
    assert case["mission"] == "UNITAMS" and case["reference"].startswith("UNAMID-")
    assert [t["reason"] for t in case["transfers"]] == ["Mission closed."]
    assert case["narrative"] == NEW_CASE["narrative"], "the data key moves with the case"

    newcomer = _officer(app, user_factory, api_login, ("UNITAMS",))
    seen = newcomer.get(url).get_json()
    assert seen["transfers"][0]["to"] == "UNITAMS" and "reason" not in seen["transfers"][0]
    former = _officer(app, user_factory, api_login, ("UNAMID",))
    assert former.get(url).status_code == 404

    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.transfer")
        ).one()
    assert event.fields == "mission,reason"
    assert "UNITAMS" not in (event.fields + (event.object_type or ""))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mission": "NOWHERE", "reason": "x"}, "mission"),
        ({"mission": "UNAMID", "reason": "x"}, "mission"),
        ({"mission": "UNITAMS", "reason": "  "}, "reason"),
        ({"mission": "UNITAMS"}, "reason"),
    ],
)
def test_a_bad_transfer_is_refused_and_changes_nothing(team, body, field):
    answer = team.post(f"/api/v1/cases/{team.reference}/transfer", json=body)
    assert answer.status_code == 400
    assert field in answer.get_json()["error"]["fields"]
    case = team.get(f"/api/v1/cases/{team.reference}").get_json()
    assert (case["mission"], case["transfers"], case["version"]) == ("UNAMID", [], 1)


def test_only_the_team_transfers(app, team, user_factory, api_login):
    colleague = _officer(app, user_factory, api_login, ("UNAMID",))
    answer = colleague.post(
        f"/api/v1/cases/{team.reference}/transfer", json={"mission": "UNITAMS", "reason": "x"}
    )
    assert answer.status_code == 403

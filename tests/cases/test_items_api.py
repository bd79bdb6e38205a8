"""Persons, referrals, findings and measures of a case through the API; an officer's journey."""

from __future__ import annotations

from datetime import date as case_date

import pytest
from sqlalchemy import func, select

from conduct.audit.models import AuditEvent
from conduct.cases.models import CaseTeamMember, Finding, InterimMeasure, Person, Referral
from conduct.core.db import db, unit_of_work
from tests.factories import make_case, make_person

SUBJECT = {
    "role": "subject",
    "full_name": "Jean Dupont",
    "personnel_number": "BGD-1234567",
    "sex": "male",
    "personnel_category": "military_contingent",
    "nationality": "BGD",
}
INVESTIGATION = {"entity": "oios", "purpose": "investigation", "referred_on": "2026-03-05"}
MEDICAL = {"entity": "medical", "purpose": "medical", "referred_on": "2026-03-05"}


def _client(app, api_login, user_id):
    client = app.test_client()
    assert api_login(client, user_id).status_code == 200
    client.user_id = user_id
    return client


@pytest.fixture
def officer(app, user_factory, api_login):
    user_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    return _client(app, api_login, user_id)


@pytest.fixture
def case(app, officer):
    """A MINUSCA case with a victim and a subject; the officer is on its team."""
    with app.app_context(), unit_of_work():
        case = make_case()
        case.team.append(CaseTeamMember(user_id=officer.user_id))
        victim = make_person(case)
        subject = make_person(case, **SUBJECT)
        return {"reference": case.reference, "victim": str(victim.id), "subject": str(subject.id)}


def _url(case, tail):
    return f"/api/v1/cases/{case['reference']}/{tail}"


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _actions(app):
    with app.app_context():
        return [event.action for event in db.session.scalars(select(AuditEvent))]


def _fields_of(response):
    assert response.status_code == 400, response.get_json()
    return response.get_json()["error"]["fields"]


# Persons


def test_the_team_adds_a_person_and_the_audit_names_fields_only(app, officer, case):
    response = officer.post(_url(case, "persons"), json={**SUBJECT, "full_name": "Ali Khan"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["role"] == "subject" and body["full_name"] == "Ali Khan" and body["id"]
    assert _count(app, Person) == 3
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "person.create")
        ).all()[-1]
    assert "full_name" in event.fields and "Ali" not in str(event.fields)
    assert event.case_reference == case["reference"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"full_name": "No Role"}, "role"),
        ({"role": "accomplice"}, "role"),
        ({"role": "victim", "nationality": "XXX"}, "nationality"),
        ({"role": "victim", "date_of_birth": "soon"}, "date_of_birth"),
    ],
)
def test_a_bad_person_is_a_400_naming_the_field(app, officer, case, body, field):
    assert field in _fields_of(officer.post(_url(case, "persons"), json=body))
    assert _count(app, Person) == 2


def test_the_team_changes_a_person(app, officer, case):
    url = _url(case, f"persons/{case['victim']}")
    response = officer.patch(url, json={"age_group": "child", "contact": "via the CBCN"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["age_group"] == "child"
    assert "person.update" in _actions(app)
    assert "sex" in _fields_of(officer.patch(url, json={"sex": "other"}))
    assert officer.patch(url, json={}).status_code == 400
    missing = _url(case, f"persons/{case['subject'][:-4]}0000")
    assert officer.patch(missing, json={"sex": "male"}).status_code == 404


# Referrals


def test_an_investigation_referral_needs_no_consent_and_is_acknowledged(app, officer, case):
    response = officer.post(_url(case, "referrals"), json=INVESTIGATION)
    assert response.status_code == 201, response.get_json()
    referral = response.get_json()
    assert referral["status"] == "sent" and referral["consent"] is None
    url = _url(case, f"referrals/{referral['id']}")
    answer = officer.patch(url, json={"acknowledged_on": "2026-03-07"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "acknowledged"
    assert answer.get_json()["acknowledged_on"] == "2026-03-07"
    assert {"referral.create", "referral.update"} <= set(_actions(app))
    assert "acknowledged_on" in _fields_of(
        officer.patch(url, json={"acknowledged_on": "2026-03-01"})
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**INVESTIGATION, "entity": "medical"}, "entity"),
        ({**INVESTIGATION, "purpose": "revenge"}, "purpose"),
        ({**INVESTIGATION, "referred_on": None}, "referred_on"),
        ({"entity": "oios", "purpose": "investigation"}, "referred_on"),
        ({**INVESTIGATION, "due_on": "2026-03-01"}, "due_on"),
        (MEDICAL, "consent"),
        ({**MEDICAL, "consent": "refused"}, "consent"),
        ({**MEDICAL, "consent": "override"}, "override_reason"),
        ({**MEDICAL, "consent": "override", "override_reason": "  "}, "override_reason"),
    ],
)
def test_a_bad_referral_is_a_400_naming_the_field(app, officer, case, body, field):
    assert field in _fields_of(officer.post(_url(case, "referrals"), json=body))
    assert _count(app, Referral) == 0


def test_victim_assistance_with_consent_is_recorded(app, officer, case):
    response = officer.post(_url(case, "referrals"), json={**MEDICAL, "consent": "given"})
    assert response.status_code == 201, response.get_json()
    assert "referral.consent_override" not in _actions(app)


def test_a_consent_override_with_a_reason_is_its_own_audit_event(app, officer, case):
    reason = "Child at immediate risk; guardian unreachable"
    body = {**MEDICAL, "consent": "override", "override_reason": reason, "details": "Clinic B"}
    response = officer.post(_url(case, "referrals"), json=body)
    assert response.status_code == 201, response.get_json()
    referral = response.get_json()
    assert referral["consent"] == "override"
    assert referral["override_reason"] == reason and referral["details"] == "Clinic B"
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "referral.consent_override")
        ).one()
        assert event.object_id == referral["id"]
        assert event.case_reference == case["reference"]
        assert event.fields == "consent,consent_override_reason"
        created = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "referral.create")
        ).one()
        assert "consent_override_reason" in created.fields.split(",")
        assert "override_reason" not in created.fields.split(",")


# Findings and measures


def test_a_finding_on_a_subject_is_recorded(app, officer, case):
    body = {
        "person_id": case["subject"],
        "finding": "substantiated",
        "actions": ["repatriation", "ban_from_future_service"],
        "decided_on": "2026-03-10",
        "decided_by": "oios",
    }
    response = officer.post(_url(case, "findings"), json=body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["actions"] == ["repatriation", "ban_from_future_service"]
    assert "finding.create" in _actions(app)
    again = officer.post(_url(case, "findings"), json=body)
    assert "person_id" in _fields_of(again)
    assert _count(app, Finding) == 1
    demoted = officer.patch(_url(case, f"persons/{case['subject']}"), json={"role": "witness"})
    assert "role" in _fields_of(demoted)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"person_id": "victim"}, "person_id"),
        ({"person_id": "00000000-0000-0000-0000-000000000000"}, "person_id"),
        ({"finding": "guilty"}, "finding"),
        ({"actions": ["flogging"]}, "actions"),
        ({"decided_by": "medical"}, "decided_by"),
        ({"decided_on": "2999-01-01"}, "decided_on"),
    ],
)
def test_a_bad_finding_is_a_400_naming_the_field(app, officer, case, change, field):
    body = {
        "person_id": case["subject"],
        "finding": "substantiated",
        "actions": ["repatriation"],
        "decided_on": "2026-03-10",
        "decided_by": "oios",
        **change,
    }
    if body["person_id"] == "victim":
        body["person_id"] = case["victim"]
    assert field in _fields_of(officer.post(_url(case, "findings"), json=body))
    assert _count(app, Finding) == 0


def test_an_interim_measure_is_recorded(app, officer, case):
    body = {
        "person_id": case["subject"],
        "type": "administrative_leave",
        "started_on": "2026-03-06",
    }
    response = officer.post(_url(case, "measures"), json=body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["type"] == "administrative_leave"
    assert "measure.create" in _actions(app)
    bad = {**body, "ended_on": "2026-03-01"}
    assert "ended_on" in _fields_of(officer.post(_url(case, "measures"), json=bad))
    assert "type" in _fields_of(officer.post(_url(case, "measures"), json={**body, "type": "x"}))
    assert _count(app, InterimMeasure) == 1


def test_an_officer_outside_the_team_may_not_change_items(app, user_factory, api_login, case):
    user_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    outsider = _client(app, api_login, user_id)
    attempts = [
        outsider.post(_url(case, "persons"), json={"role": "witness"}),
        outsider.patch(_url(case, f"persons/{case['victim']}"), json={"sex": "male"}),
        outsider.post(_url(case, "referrals"), json=INVESTIGATION),
        outsider.post(_url(case, "measures"), json={"type": "administrative_leave"}),
        outsider.post(_url(case, "findings"), json={"person_id": case["subject"]}),
    ]
    assert [response.status_code for response in attempts] == [403] * 5
    assert _count(app, Person) == 2 and _count(app, Referral) == 0


# The journey of issue 4


def test_journey_from_report_to_a_screening_match(app, officer, user_factory, api_login):
    user_id, _ = user_factory(roles=("vetting",), missions=())
    vetting = _client(app, api_login, user_id)

    def screening():
        response = vetting.post("/api/v1/screening", json={"personnel_number": "bgd 1234567"})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    created = officer.post(
        "/api/v1/cases",
        json={
            "mission": "MINUSCA",
            "received_on": "2026-03-04",
            "source": "community_based_complaint_network",
            "category": "sexual_exploitation",
            "allegation_type": "transactional_sex",
            "narrative": "Reported through the network.",
        },
    )
    assert created.status_code == 201, created.get_json()
    case = {"reference": created.get_json()["reference"]}

    def step(method, tail, body, status=201):
        response = officer.open(_url(case, tail), method=method, json=body)
        assert response.status_code == status, response.get_json()
        return response.get_json()

    step("POST", "persons", {"role": "victim", "full_name": "Awa Traoré", "sex": "female"})
    subject = step("POST", "persons", SUBJECT)
    referral = step("POST", "referrals", {**INVESTIGATION, "due_on": "2026-06-03"})
    step("PATCH", f"referrals/{referral['id']}", {"acknowledged_on": "2026-03-06"}, status=200)
    step("POST", "transitions", {"to": "referred"})
    step("POST", "transitions", {"to": "under_investigation"})
    refused = officer.post(_url(case, "transitions"), json={"to": "substantiated"})
    assert refused.status_code == 400, "no finding yet"
    assert screening() == {"match": False}

    step(
        "POST",
        "findings",
        {
            "person_id": subject["id"],
            "finding": "substantiated",
            "actions": ["repatriation"],
            "decided_on": "2026-05-20",
            "decided_by": "oios",
        },
    )
    assert step("POST", "transitions", {"to": "substantiated"})["status"] == "substantiated"
    assert screening() == {"match": True}

    read = officer.get(f"/api/v1/cases/{case['reference']}").get_json()
    assert read["status"] == "substantiated"
    assert [p["role"] for p in read["persons"]] == ["victim", "subject"]
    assert read["referrals"][0]["status"] == "acknowledged"
    assert read["findings"][0]["actions"] == ["repatriation"]
    assert [h["to"] for h in read["history"]] == [
        "referred",
        "under_investigation",
        "substantiated",
    ]


def test_a_finding_and_a_measure_are_corrected_by_id(app, officer, case):
    finding = officer.post(
        _url(case, "findings"),
        json={
            "person_id": case["subject"],
            "finding": "not_substantiated",
            "actions": ["no_action"],
            "decided_on": "2026-03-10",
            "decided_by": "oios",
        },
    ).get_json()
    url = _url(case, f"findings/{finding['id']}")
    corrected = officer.patch(url, json={"finding": "substantiated", "actions": ["repatriation"]})
    assert corrected.status_code == 200, corrected.get_json()
    assert (corrected.get_json()["finding"], corrected.get_json()["actions"]) == (
        "substantiated",
        ["repatriation"],
    )
    assert "decided_on" in _fields_of(officer.patch(url, json={"decided_on": "2999-01-01"}))
    assert "_schema" in _fields_of(officer.patch(url, json={}))
    assert (
        officer.patch(_url(case, f"findings/{case['victim']}"), json={"finding": "x"}).status_code
        == 400
    )
    assert (
        officer.patch(_url(case, f"findings/{case['victim']}"), json={"finding": "closed_other"})
    ).status_code == 404

    measure = officer.post(
        _url(case, "measures"),
        json={
            "person_id": case["subject"],
            "type": "administrative_leave",
            "started_on": "2026-03-06",
        },
    ).get_json()
    url = _url(case, f"measures/{measure['id']}")
    ended = officer.patch(url, json={"ended_on": "2026-04-01"})
    assert ended.status_code == 200 and ended.get_json()["ended_on"] == "2026-04-01"
    assert "ended_on" in _fields_of(officer.patch(url, json={"ended_on": "2026-03-01"}))
    actions = _actions(app)
    assert "finding.update" in actions and "measure.update" in actions


def test_the_team_asks_where_else_a_subject_appears(app, officer, user_factory, api_login, case):
    with app.app_context(), unit_of_work():
        elsewhere = make_case(received_on=case_date(2026, 4, 1))
        make_person(elsewhere, **{**SUBJECT, "full_name": "Another Name"})
        make_person(make_case(mission="MONUSCO"), **SUBJECT)  # not in the officer's scope
        other_reference = elsewhere.reference
    url = _url(case, f"persons/{case['subject']}/other-cases")
    answer = officer.get(url)
    assert answer.status_code == 200
    assert answer.get_json() == {"person_id": case["subject"], "other_cases": [other_reference]}
    assert "person.other_cases" in _actions(app)
    assert (
        officer.get(_url(case, f"persons/{case['victim']}/other-cases")).get_json()["other_cases"]
        == []
    )
    assert officer.get(_url(case, "persons/not-an-id/other-cases")).status_code == 404
    outsider_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    assert _client(app, api_login, outsider_id).get(url).status_code == 403

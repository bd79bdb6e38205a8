"""Screening for vetting officers, and other cases of a subject for the case team."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from conduct.audit.models import AuditEvent
from conduct.auth.models import User
from conduct.cases import services
from conduct.cases.models import Case, CaseRecusal, Finding, Person
from conduct.cases.screening import other_cases_in_scope, screen
from conduct.core.db import db
from conduct.core.errors import Forbidden, ValidationFailed
from conduct.crypto import current_vault
from tests.factories import make_case, make_person

SUBJECT = {
    "role": "subject",
    "full_name": "Aïcha Ouédraogo",
    "date_of_birth": date(1984, 5, 17),
    "personnel_number": "BGD-1234567",
    "personnel_category": "military_contingent",
    "nationality": "BGD",
}
BY_NUMBER = {"personnel_number": "BGD-1234567"}
BY_NAME = {"full_name": "Aïcha Ouédraogo", "date_of_birth": date(1984, 5, 17)}
MISSES = [
    {"personnel_number": "BGD-7654321"},
    {"full_name": "Aïcha Ouédraogo", "date_of_birth": date(1984, 5, 18)},
    {"full_name": "Awa Ouédraogo", "date_of_birth": date(1984, 5, 17)},
]


def add_finding(person: Person, finding: str = "substantiated") -> Finding:
    """A finding on a person, through the model (as the findings service will store it)."""
    actions = ["repatriation"] if finding == "substantiated" else ["no_action"]
    row = Finding(case=person.case, person_id=person.id, finding=finding, actions=actions)
    db.session.add(row)
    db.session.flush()
    return row


def put_subject(mission="MINUSCA", finding: str | None = "substantiated", **fields) -> Person:
    case = make_case(mission=mission)
    person = make_person(case, **{**SUBJECT, **fields})
    if finding is not None:
        add_finding(person, finding)
    return person


@pytest.fixture
def vetting_id(user_factory):
    return user_factory(roles=("vetting",), missions=())[0]


@pytest.fixture
def ask(work, vetting_id):
    """Screen as the vetting officer in a unit of work of its own."""

    def run(**identifier) -> bool:
        with work():
            return screen(db.session.get(User, vetting_id), **identifier)

    return run


@pytest.fixture
def vetting_client(client, vetting_id, api_login):
    assert api_login(client, vetting_id).status_code == 200
    return client


# --- The answer -----------------------------------------------------------------------------


@pytest.mark.parametrize("identifier", [BY_NUMBER, BY_NAME], ids=["number", "name_dob"])
def test_a_substantiated_subject_matches(work, ask, identifier):
    with work():
        put_subject()
    assert ask(**identifier) is True


@pytest.mark.parametrize("identifier", MISSES, ids=["number", "dob", "name"])
def test_other_identifiers_do_not_match(work, ask, identifier):
    with work():
        put_subject()
    assert ask(**identifier) is False


@pytest.mark.parametrize(
    "identifier",
    [
        {"personnel_number": "bgd 1234567"},
        {"personnel_number": " BGD.1234567 "},
        {"full_name": "aicha ouedraogo", "date_of_birth": date(1984, 5, 17)},
        {"full_name": "OUÉDRAOGO,  Aïcha", "date_of_birth": date(1984, 5, 17)},
        {"full_name": " Ouedraogo Aicha ", "date_of_birth": date(1984, 5, 17)},
    ],
)
def test_spelling_differences_still_match(work, ask, identifier):
    with work():
        put_subject()
    assert ask(**identifier) is True


@pytest.mark.parametrize("role", ["victim", "witness", "reporter"])
def test_the_same_identifiers_in_another_role_do_not_match(work, ask, role):
    with work():
        # Even a (misplaced) substantiated finding on such a row does not make it a subject.
        put_subject(role=role, personnel_category=None, nationality=None)
        put_subject(finding=None)
    assert ask(**BY_NUMBER) is False
    assert ask(**BY_NAME) is False


@pytest.mark.parametrize("finding", ["not_substantiated", "closed_other"])
def test_a_subject_without_a_substantiated_finding_does_not_match(work, ask, finding):
    with work():
        put_subject(finding=finding)
    assert ask(**BY_NUMBER) is False


def test_one_substantiated_case_among_several_matches(work, ask):
    with work():
        put_subject(finding="not_substantiated")
        put_subject(mission="MONUSCO", finding="substantiated", full_name="Aicha Ouedraogo")
    assert ask(**BY_NUMBER) is True


def test_a_shredded_case_no_longer_matches(work, ask):
    with work():
        case_id = put_subject().case_id
    assert ask(**BY_NUMBER) is True
    with work():
        services.shred_case(None, db.session.get(Case, case_id))
    assert ask(**BY_NUMBER) is False
    assert ask(**BY_NAME) is False


def test_screening_opens_no_case_data_key(work, vetting_id):
    with work():
        case_id = put_subject().case_id
    with work():
        assert screen(db.session.get(User, vetting_id), **BY_NUMBER) is True
        assert screen(db.session.get(User, vetting_id), **BY_NAME) is True
        assert current_vault().loaded_data_key(case_id) is None


def test_journey_no_match_before_the_finding_and_a_match_after(work, vetting_client):
    with work():
        case = make_case()
        make_person(case)
        subject = make_person(case, **SUBJECT)
        reference, subject_id = case.reference, subject.id

    def screening():
        response = vetting_client.post("/api/v1/screening", json={"personnel_number": "bgd1234567"})
        assert response.status_code == 200
        return response.get_json()

    assert screening() == {"match": False}
    with work():
        add_finding(db.session.get(Person, subject_id))
        assert services.case_by_reference(reference) is not None
    assert screening() == {"match": True}
    answer = vetting_client.post(
        "/api/v1/screening",
        json={"full_name": "OUEDRAOGO Aicha", "date_of_birth": "1984-05-17"},
    )
    assert answer.status_code == 200 and answer.get_json() == {"match": True}


# --- Who may ask ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["officer", "leadership", "auditor", "admin"])
def test_only_vetting_officers_may_screen(client, user_factory, api_login, role):
    user_id, _ = user_factory(roles=(role,), missions=("MINUSCA",))
    assert api_login(client, user_id).status_code == 200
    assert client.post("/api/v1/screening", json=BY_NUMBER).status_code == 403


def test_screening_needs_a_login(client):
    assert client.post("/api/v1/screening", json=BY_NUMBER).status_code == 401


def test_the_service_refuses_other_roles_too(work, user_factory):
    officer_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    with work(), pytest.raises(Forbidden):
        screen(db.session.get(User, officer_id), **BY_NUMBER)


# --- Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"personnel_number", "full_name", "date_of_birth"}),
        ({"personnel_number": "BGD-1", "full_name": "A B"}, {"personnel_number", "full_name"}),
        (
            {"personnel_number": "BGD-1", "full_name": "A B", "date_of_birth": "1984-05-17"},
            {"personnel_number", "full_name", "date_of_birth"},
        ),
        ({"full_name": "Aïcha Ouédraogo"}, {"date_of_birth"}),
        ({"date_of_birth": "1984-05-17"}, {"full_name"}),
        ({"full_name": "Aïcha Ouédraogo", "date_of_birth": "17/05/1984"}, {"date_of_birth"}),
        ({"personnel_number": ""}, {"personnel_number"}),
        ({"personnel_number": " -- "}, {"personnel_number"}),
        ({"personnel_number": None}, {"personnel_number"}),
        ({"personnel_number": 1234567}, {"personnel_number"}),
        ({"full_name": " , ", "date_of_birth": "1984-05-17"}, {"full_name"}),
        ({"personnel_number": "BGD-1", "surname": "x"}, {"unknown_field"}),
    ],
)
def test_bad_input_answers_400_naming_the_fields(vetting_client, body, fields):
    response = vetting_client.post("/api/v1/screening", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert set(error["fields"]) == fields
    assert "match" not in response.get_json()


def test_the_service_checks_the_identifier_form_itself(work, vetting_id):
    with work(), pytest.raises(ValidationFailed) as refused:
        screen(db.session.get(User, vetting_id), personnel_number="X1", full_name="A B")
    assert set(refused.value.fields) == {"personnel_number", "full_name"}


def test_a_body_that_is_not_json_is_refused(vetting_client):
    response = vetting_client.post("/api/v1/screening", data="personnel_number=BGD-1234567")
    assert response.status_code == 400


# --- The audit trail ------------------------------------------------------------------------


def _screening_events():
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "screening.query").order_by(AuditEvent.id)
    ).all()


def _columns(event: AuditEvent) -> dict:
    skipped = {"id", "occurred_at", "request_id"}
    return {
        column.key: getattr(event, column.key)
        for column in AuditEvent.__table__.columns
        if column.key not in skipped
    }


def test_the_audit_event_names_the_identifier_kind_and_holds_no_value_or_answer(
    work, vetting_client, vetting_id
):
    with work():
        put_subject()
    for body in (
        {"personnel_number": "BGD-1234567"},
        {"personnel_number": "BGD-7654321"},
        {"full_name": "Aïcha Ouédraogo", "date_of_birth": "1984-05-17"},
        {"full_name": "Aïcha Ouédraogo", "date_of_birth": "1984-05-18"},
    ):
        assert vetting_client.post("/api/v1/screening", json=body).status_code == 200
    with work():
        match_by_number, miss_by_number, match_by_name, miss_by_name = _screening_events()
        assert match_by_number.fields == "personnel_number"
        assert match_by_name.fields == "date_of_birth,full_name"
        assert match_by_number.actor_id == vetting_id
        # A match and a miss leave the same trace: the answer is not in the log.
        assert _columns(match_by_number) == _columns(miss_by_number)
        assert _columns(match_by_name) == _columns(miss_by_name)
        logged = " ".join(
            str(value)
            for event in db.session.scalars(select(AuditEvent))
            for value in _columns(event).values()
        ).lower()
    for secret in ("1234567", "7654321", "ouédraogo", "ouedraogo", "aïcha", "1984", "match"):
        assert secret not in logged


def test_refused_input_is_logged_without_its_values(work, vetting_client):
    vetting_client.post("/api/v1/screening", json={"personnel_number": "BGD-1", "full_name": "Z"})
    with work():
        events = db.session.scalars(select(AuditEvent)).all()
        logged = " ".join(str(value) for event in events for value in _columns(event).values())
        assert not _screening_events()
    assert "BGD-1" not in logged and "full_name" in logged


# --- Other cases of a subject, for the case team --------------------------------------------


@pytest.fixture
def officer_id(user_factory):
    return user_factory(roles=("officer",), missions=("MINUSCA",))[0]


def test_the_case_team_sees_other_cases_of_the_subject_in_its_scope(work, officer_id):
    with work():
        officer = db.session.get(User, officer_id)
        own = make_case(officer)
        subject = make_person(own, **SUBJECT)
        by_number = put_subject(finding=None, full_name="Someone Else").case
        by_name = put_subject(finding=None, personnel_number="OTHER-1").case
        put_subject(mission="MONUSCO", finding=None)
        put_subject(role="witness", finding=None, personnel_category=None, nationality=None)
        recused = put_subject(finding=None).case
        recused.recusals.append(CaseRecusal(user_id=officer_id))
        put_subject(finding=None, personnel_number="OTHER-2", full_name="Someone Else")
        make_person(own, **{**SUBJECT, "role": "witness", "personnel_category": None})
        expected = sorted([by_number.reference, by_name.reference])
        subject_id, own_id = subject.id, own.id
    with work():
        found = other_cases_in_scope(
            db.session.get(User, officer_id), db.session.get(Person, subject_id)
        )
        assert found == expected
        # Found by index equality: no case's data key was opened for it.
        assert current_vault().loaded_data_key(own_id) is None
        event = _last_event()
        assert (event.action, event.object_id, event.fields) == (
            "person.other_cases",
            str(subject_id),
            "other_cases",
        )


def test_only_the_case_team_may_see_other_cases(work, officer_id, user_factory):
    outsider_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    with work():
        subject_id = make_person(make_case(db.session.get(User, officer_id)), **SUBJECT).id
    with work(), pytest.raises(Forbidden):
        other_cases_in_scope(db.session.get(User, outsider_id), db.session.get(Person, subject_id))


def test_a_person_without_identifiers_has_no_other_cases(work, officer_id):
    with work():
        officer = db.session.get(User, officer_id)
        person = make_person(make_case(officer), role="subject", full_name="Only A Name")
        put_subject(finding=None)
        assert other_cases_in_scope(officer, person) == []


def _last_event() -> AuditEvent:
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()

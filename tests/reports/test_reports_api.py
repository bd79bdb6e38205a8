"""GET /api/v1/reports/{table}: known counts, answer shape, validation, access, audit, cache."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from conduct.audit.models import AuditEvent
from conduct.core.db import db, unit_of_work
from tests.factories import make_case, make_person

# Reports per (mission, year); UNMISS 2025 (2) and UNISFA 2024 (1) are below the threshold.
KNOWN = {
    ("MINUSCA", 2024): 7,
    ("MINUSCA", 2025): 6,
    ("MONUSCO", 2024): 8,
    ("MONUSCO", 2025): 5,
    ("UNMISS", 2025): 2,
    ("UNISFA", 2024): 1,
}


@pytest.fixture
def leader(app, user_factory, api_login):
    user_id, _ = user_factory(roles=("leadership",), missions=())
    client = app.test_client()
    assert api_login(client, user_id).status_code == 200
    client.user_id = user_id
    return client


@pytest.fixture
def seeded(app):
    """The KNOWN reports, each with one female adult victim and one subject."""
    with app.app_context(), unit_of_work():
        for (mission, year), count in KNOWN.items():
            for _ in range(count):
                case = make_case(mission=mission, received_on=date(year, 3, 3))
                make_person(case, sex="female", age_group="adult")
                make_person(
                    case,
                    role="subject",
                    full_name="A. Subject",
                    personnel_category="military_contingent",
                    nationality="BGD",
                )
    return KNOWN


def _report(client, table, **query):
    response = client.get(f"/api/v1/reports/{table}", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("table", ["allegations", "victims", "subjects", "timeliness"])
def test_every_unsuppressed_cell_equals_the_known_count(leader, seeded, table):
    body = _report(leader, table, by="mission,year")
    assert body["total"] == sum(seeded.values())
    hidden = set()
    for row in body["rows"]:
        key = (row["mission"], row["year"])
        if row["suppressed"]:
            assert row["count"] is None
            hidden.add(key)
        else:
            assert row["count"] == seeded.get(key, 0), key
    assert {key for key, count in seeded.items() if count < 5} <= hidden
    assert {("MINUSCA", 2024), ("MONUSCO", 2024)} - hidden, "big cells stay published"


def test_one_year_and_one_dimension(leader, seeded):
    body = _report(leader, "allegations", by="mission", year="2024")
    counts = {row["mission"]: row["count"] for row in body["rows"]}
    assert counts["MONUSCO"] in (8, None) and counts["UNMIL"] == 0
    assert body["total"] == 16
    published = [row for row in body["rows"] if not row["suppressed"]]
    for row in published:
        assert row["count"] == seeded.get((row["mission"], 2024), 0)


def test_answer_shape(leader, seeded):
    body = _report(leader, "victims", by=["sex", "age_group"])
    assert set(body) == {"table", "by", "year", "threshold", "rows", "total"}
    assert body["table"] == "victims" and body["by"] == ["sex", "age_group"]
    assert body["year"] is None and body["threshold"] == 5
    row = next(r for r in body["rows"] if r["sex"] == "female" and r["age_group"] == "adult")
    assert row == {"sex": "female", "age_group": "adult", "count": 29, "suppressed": False}
    assert {r["sex"] for r in body["rows"]} == {"female", "male", "unknown"}


def test_a_report_is_counted_once_per_personnel_category_it_names(app, leader):
    with app.app_context(), unit_of_work():
        for _ in range(6):
            case = make_case(mission="MINUSCA", received_on=date(2025, 2, 1))
            for category in ("military_contingent", "military_contingent", "contractor_consultant"):
                make_person(case, role="subject", personnel_category=category)
    body = _report(leader, "allegations", by="personnel_category")
    counts = {row["personnel_category"]: row["count"] for row in body["rows"]}
    assert counts["military_contingent"] == 6 and counts["contractor_consultant"] == 6
    assert body["total"] == 6, "the total counts reports, not categories"
    subjects = _report(leader, "subjects", by="personnel_category")
    assert subjects["total"] == 18


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "by"),
        ({"by": ""}, "by"),
        ({"by": "mission,year,category"}, "by"),
        ({"by": "colour"}, "by"),
        ({"by": "mission,mission"}, "by"),
        ({"by": "sex"}, "by"),
        ({"by": "mission", "year": "last"}, "year"),
        ({"by": "mission", "year": "12"}, "year"),
        ({"by": "mission", "mission": "MINUSCA"}, "unknown_field"),
    ],
)
def test_bad_queries_are_a_400_naming_the_field(leader, query, field):
    response = leader.get("/api/v1/reports/allegations", query_string=query)
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]


def test_an_unknown_table_is_a_404(leader):
    response = leader.get("/api/v1/reports/people", query_string={"by": "mission"})
    assert response.status_code == 404


@pytest.mark.parametrize(("roles", "status"), [(("officer",), 403), (("auditor",), 403)])
def test_only_leadership_sees_reports(app, user_factory, api_login, roles, status):
    user_id, _ = user_factory(roles=roles, missions=("MINUSCA",))
    client = app.test_client()
    api_login(client, user_id)
    assert client.get("/api/v1/reports/allegations?by=mission").status_code == status
    anonymous = app.test_client().get("/api/v1/reports/allegations?by=mission")
    assert anonymous.status_code == 401


def _report_events(app):
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("report.%")).order_by(AuditEvent.id)
        ).all()


def test_each_answer_is_audited_with_table_and_dimensions_even_when_cached(app, leader, seeded):
    _report(leader, "allegations", by="mission,category", year="2024")
    _report(leader, "allegations", by="mission,category", year="2024")
    events = _report_events(app)
    assert len(events) == 2
    for event in events:
        assert event.action == "report.view" and event.object_id == "allegations"
        assert event.fields == "allegations,category,filter.year,mission"
        assert event.actor_id == leader.user_id


def test_a_change_to_the_data_is_seen_by_the_next_answer(app, leader, seeded):
    before = _report(leader, "allegations", by="year")
    with app.app_context(), unit_of_work():
        for _ in range(5):
            make_case(mission="UNMISS", received_on=date(2026, 1, 5))
    after = _report(leader, "allegations", by="year")
    assert after["total"] == before["total"] + 5
    assert {row["year"]: row["count"] for row in after["rows"]}[2026] == 5


def test_answers_match_the_openapi_description(app, seeded):
    from tests.core.test_openapi import CheckedClient, _log_in

    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    client = CheckedClient(app, spec)
    with app.app_context(), unit_of_work():
        from tests.factories import make_user

        leader_id = make_user(("leadership",), ()).id
    _log_in(app, client.client, leader_id)
    assert client.get("/api/v1/reports/timeliness?by=mission&year=2024").status_code == 200
    assert client.get("/api/v1/reports/subjects?by=nationality,action").status_code == 200
    assert client.get("/api/v1/reports/victims?by=colour").status_code == 400
    assert client.get("/api/v1/reports/people?by=mission").status_code == 404

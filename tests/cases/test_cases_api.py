"""Creating, listing and changing cases through the API."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from conduct.audit.models import AuditEvent
from conduct.cases.models import Case
from conduct.core.db import db, unit_of_work
from tests.factories import make_case, make_person

NEW_CASE = {
    "mission": "MINUSCA",
    "received_on": "2026-03-04",
    "incident_date": "2026-02",
    "source": "community_based_complaint_network",
    "category": "sexual_exploitation",
    "allegation_type": "transactional_sex",
    "misconduct_class": "1",
    "narrative": "Reported through the network in PK5.",
    "location": "Bangui, PK5",
}


@pytest.fixture
def officer(app, user_factory, api_login):
    user_id, _ = user_factory(roles=("officer",), missions=("MINUSCA", "MONUSCO"))
    client = app.test_client()
    assert api_login(client, user_id).status_code == 200
    client.user_id = user_id
    return client


def _count(app, model=Case):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_an_officer_records_a_case_and_joins_its_team(app, officer):
    response = officer.post("/api/v1/cases", json=NEW_CASE)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["reference"] == "MINUSCA-2026-0001"
    assert response.headers["Location"].endswith("/api/v1/cases/MINUSCA-2026-0001")
    assert body["status"] == "received" and body["version"] == 1
    assert body["narrative"] == NEW_CASE["narrative"], "the creator is on the team"
    assert body["persons"] == [] and body["history"] == []
    again = officer.get("/api/v1/cases/MINUSCA-2026-0001").get_json()
    assert again["allegation_type"] == "transactional_sex"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mission": "UNMISS"}, "mission"),
        ({"mission": "NOWHERE"}, "mission"),
        ({"received_on": "2999-01-01"}, "received_on"),
        ({"received_on": "yesterday"}, "received_on"),
        ({"category": "genocide"}, "category"),
        ({"allegation_type": "fraud"}, "allegation_type"),
        ({"incident_date": "March"}, "incident_date"),
        ({"status": "substantiated"}, "unknown_field"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(app, officer, change, field):
    response = officer.post("/api/v1/cases", json={**NEW_CASE, **change})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert field in error["fields"] or (field == "unknown_field" and "status" in error["fields"])
    assert _count(app) == 0


@pytest.fixture
def listed(app, officer):
    """Cases in two missions of the officer, one in a mission that is not theirs."""
    with app.app_context(), unit_of_work():
        for day, category in [(1, "sexual_abuse"), (2, "sexual_exploitation"), (3, "sexual_abuse")]:
            make_case(
                received_on=date(2026, 1, day),
                category=category,
                allegation_type="rape" if category == "sexual_abuse" else "transactional_sex",
            )
        make_case(mission="MONUSCO", received_on=date(2026, 1, 4))
        secret = make_case(
            mission="UNMISS", received_on=date(2026, 1, 5), narrative="LIST-CANARY narrative"
        )
        make_person(secret, full_name="LIST-CANARY person")
    return officer


def test_the_list_shows_the_users_missions_newest_first_without_identities(app, listed):
    response = listed.get("/api/v1/cases")
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 4
    assert [item["reference"] for item in body["items"]] == [
        "MONUSCO-2026-0001",
        "MINUSCA-2026-0003",
        "MINUSCA-2026-0002",
        "MINUSCA-2026-0001",
    ]
    assert "LIST-CANARY" not in response.get_data(as_text=True)
    assert set(body["items"][0]) == {
        "id",
        "reference",
        "mission",
        "received_on",
        "version",
        "status",
        "category",
        "allegation_type",
        "source",
    }


def test_the_list_filters_on_coded_facts_and_pages(app, listed):
    body = listed.get("/api/v1/cases?mission=MINUSCA&category=sexual_abuse").get_json()
    assert [item["reference"] for item in body["items"]] == [
        "MINUSCA-2026-0003",
        "MINUSCA-2026-0001",
    ]
    page = listed.get("/api/v1/cases?per_page=3&page=2").get_json()
    assert (page["total"], len(page["items"]), page["page"]) == (4, 1, 2)
    assert listed.get("/api/v1/cases?mission=UNMISS").status_code == 400
    assert listed.get("/api/v1/cases?status=lost").status_code == 400
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.list")
        ).all()
    assert events[0].fields == "filter.category,filter.mission"
    assert "sexual_abuse" not in " ".join(e.fields for e in events)


def test_a_filtered_list_keeps_the_order_of_the_whole_list_across_pages(app, officer):
    """Filtered lists sort their matches themselves: same order as the database's, ties on
    the same day broken by reference, newest first."""
    with app.app_context(), unit_of_work():
        for day in (3, 1, 3, 2, 3, 1):
            make_case(received_on=date(2026, 2, day), category="sexual_abuse")
        make_case(
            received_on=date(2026, 2, 2), category="other_misconduct", allegation_type="fraud"
        )
    whole = officer.get("/api/v1/cases?per_page=100").get_json()
    expected = [i["reference"] for i in whole["items"] if i["category"] == "sexual_abuse"]
    pages = [
        officer.get(f"/api/v1/cases?category=sexual_abuse&per_page=4&page={n}").get_json()
        for n in (1, 2)
    ]
    assert [i["reference"] for p in pages for i in p["items"]] == expected
    assert expected[:3] == ["MINUSCA-2026-0005", "MINUSCA-2026-0003", "MINUSCA-2026-0001"]
    assert pages[0]["total"] == 6


def test_a_change_needs_the_current_version(app, officer):
    reference = officer.post("/api/v1/cases", json=NEW_CASE).get_json()["reference"]
    url = f"/api/v1/cases/{reference}"
    changed = officer.patch(url, json={"version": 1, "location": "Bangui, PK12"})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["location"], changed.get_json()["version"]) == ("Bangui, PK12", 2)
    stale = officer.patch(url, json={"version": 1, "notes": "late edit"})
    assert stale.status_code == 409
    assert "version" in stale.get_json()["error"]["fields"]
    assert officer.get(url).get_json()["notes"] is None
    assert officer.patch(url, json={"location": "x"}).status_code == 400
    assert officer.patch(url, json={"version": 2, "status": "closed"}).status_code == 400


def test_only_the_team_changes_a_case(app, officer, user_factory, api_login):
    reference = officer.post("/api/v1/cases", json=NEW_CASE).get_json()["reference"]
    colleague_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    colleague = app.test_client()
    assert api_login(colleague, colleague_id).status_code == 200
    response = colleague.patch(f"/api/v1/cases/{reference}", json={"version": 1, "notes": "x"})
    assert response.status_code == 403
    assert "narrative" not in colleague.get(f"/api/v1/cases/{reference}").get_json()

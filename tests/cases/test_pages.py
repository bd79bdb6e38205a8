"""The case pages: who sees what, recording and changing a case through the forms, audit."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from conduct.cases import services
from conduct.cases.models import CaseRecusal, PaternityClaim
from conduct.core.db import db, unit_of_work
from tests.cases.pages import (
    NARRATIVE,
    NEW_CASE,
    VICTIM,
    count,
    events,
    login,
    make_team,
    post,
    stored,
    text,
)
from tests.factories import make_case, make_person


@pytest.fixture
def team(app, user_factory, api_login):
    return make_team(app, user_factory, api_login)


def case_pages(reference: str) -> list[str]:
    return [
        "/cases",
        "/cases/new",
        "/cases/overdue",
        f"/cases/{reference}",
        f"/cases/{reference}/edit",
        f"/cases/{reference}/transfer",
        f"/cases/{reference}/transition",
        f"/cases/{reference}/persons/new",
        f"/cases/{reference}/referrals/new",
        f"/cases/{reference}/measures/new",
        f"/cases/{reference}/findings/new",
    ]


def test_every_page_renders_for_a_team_officer(team):
    for path in case_pages(team.reference):
        response = team.client.get(path)
        assert response.status_code == 200, path
        assert "<main>" in text(response)
    page = text(team.client.get(f"/cases/{team.reference}"))
    assert VICTIM in page and NARRATIVE in page and "Jean Dupont" in page
    assert "Sexual abuse" in page, "labels from conduct/codes.py"


def test_an_officer_of_the_mission_off_the_team_sees_no_identity(
    app, team, user_factory, api_login
):
    colleague_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    colleague = login(app, api_login, colleague_id)
    page = colleague.get(f"/cases/{team.reference}")
    assert page.status_code == 200
    shown = text(page)
    assert "PAGE-CANARY" not in shown and "NARRATIVE-CANARY" not in shown
    assert "Jean Dupont" not in shown and "BGD-1234567" not in shown
    assert "Victim 1" in shown and "Subject 1" in shown
    assert "Change the case" not in shown
    for path in case_pages(team.reference)[4:]:
        assert colleague.get(path).status_code == 403, path
    (event,) = [e for e in events(app, "case.read") if e.actor_id == colleague_id]
    assert "persons.full_name" not in event.fields and "narrative" not in event.fields


def test_an_officer_of_another_mission_gets_404(app, team, user_factory, api_login):
    outsider_id, _ = user_factory(roles=("officer",), missions=("MONUSCO",))
    outsider = login(app, api_login, outsider_id)
    for path in case_pages(team.reference)[3:]:
        assert outsider.get(path).status_code == 404, path
    assert team.reference not in text(outsider.get("/cases"))


@pytest.mark.parametrize("role", ["leadership", "auditor", "admin", "vetting"])
def test_other_roles_are_refused(app, team, user_factory, api_login, role):
    user_id, _ = user_factory(roles=(role,), missions=("MINUSCA",))
    other = login(app, api_login, user_id)
    for path in case_pages(team.reference):
        assert other.get(path).status_code == 403, path
    assert "/cases" not in text(other.get("/account/password")), "no link to what is refused"


def test_navigation_shows_case_links_to_officers_only(app, team, user_factory, api_login):
    home = text(team.client.get("/"))
    assert 'href="/cases"' in home and 'href="/cases/new"' in home
    admin_id, _ = user_factory(roles=("admin",), missions=())
    admin_home = text(login(app, api_login, admin_id).get("/"))
    assert 'href="/cases' not in admin_home and 'href="/admin/users"' in admin_home


# Recording a case


def test_an_officer_records_a_case_and_lands_on_its_page(app, team):
    response = post(team.client, "/cases/new", NEW_CASE, "/cases/new")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/cases/MINUSCA-2026-0002")
    page = text(team.client.get(response.headers["Location"]))
    assert "Case MINUSCA-2026-0002 recorded." in page
    assert "Reported by an NGO in PK5." in page and "Transactional sex" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"category": "other_misconduct"}, "allegation_type", "not an allegation type of"),
        ({"received_on": "2999-01-01"}, "received_on", "cannot be in the future"),
        ({"received_on": ""}, "received_on", "Missing data for required field."),
        ({"incident_date": "March"}, "incident_date", "String does not match"),
        ({"mission": "UNMISS"}, "mission", "not one of your missions"),
        ({"source": "rumour"}, "source", "Must be one of"),
    ],
)
def test_a_bad_field_is_shown_next_to_it_and_nothing_is_stored(app, team, change, field, message):
    before = count(app)
    response = post(team.client, "/cases/new", {**NEW_CASE, **change}, "/cases/new")
    assert response.status_code == 400
    page = text(response)
    problem = re.search(rf'<span class="field-error" id="{field}-error">([^<]*)</span>', page)
    assert problem is not None and message in problem.group(1), page
    assert "Nothing was saved" in page
    assert 'value="Reported by an NGO in PK5.' in page or "Reported by an NGO in PK5." in page
    assert count(app) == before
    refusal = events(app, "request.refused")[-1]
    assert field in refusal.fields and refusal.outcome == "invalid"
    assert not events(app, "case.create")[1:], "only the fixture's case was created"


def test_forms_without_a_csrf_token_are_refused(app, team):
    before = count(app)
    response = team.client.post("/cases/new", data=NEW_CASE)
    assert response.status_code == 400
    assert count(app) == before
    reference = team.reference
    for path, data in [
        (f"/cases/{reference}/edit", {"version": "1", "notes": "x"}),
        (f"/cases/{reference}/transition", {"to": "preliminary_assessment"}),
        (f"/cases/{reference}/persons/new", {"role": "witness"}),
        (f"/cases/{reference}/referrals/{team.ids.victim}", {"status": "declined"}),
    ]:
        assert team.client.post(path, data=data).status_code == 400, path
        bad = team.client.post(path, data={**data, "csrf_token": "forged"})
        assert bad.status_code == 400, path
    assert stored(app, reference, "version", "status", "persons") == (1, "received", 2)


# Reading


def test_every_page_read_writes_its_audit_event(app, team):
    expected = {
        "/cases": "case.list",
        "/cases/overdue": "case.overdue",
        f"/cases/{team.reference}": "case.read",
        f"/cases/{team.reference}/edit": "case.read",
        f"/cases/{team.reference}/transfer": "case.read",
        f"/cases/{team.reference}/transition": "case.read",
        f"/cases/{team.reference}/persons/new": "case.read",
        f"/cases/{team.reference}/referrals/new": "case.read",
        f"/cases/{team.reference}/measures/new": "case.read",
        f"/cases/{team.reference}/findings/new": "case.read",
    }
    for path, action in expected.items():
        before = len(events(app))
        assert team.client.get(path).status_code == 200
        added = events(app)[before:]
        assert action in [event.action for event in added], path
        for event in added:
            assert event.actor_id == team.id
            if path.startswith(f"/cases/{team.reference}"):
                assert event.case_reference == team.reference
    view = [e for e in events(app) if e.action == "person.other_cases"]
    assert view and all(event.object_id == team.ids.subject for event in view)
    stored = " ".join(str(value) for event in events(app) for value in vars(event).values())
    for value in ("PAGE-CANARY", "NARRATIVE-CANARY", "Dupont", "sexual_abuse", "received,"):
        assert value not in stored


def test_the_case_page_flags_what_is_overdue(app, team):
    page = text(team.client.get(f"/cases/{team.reference}"))
    # Received 2 March 2026 with no investigation referral: the referral was due 9 March.
    assert "Referral for investigation not made: due Mar 9, 2026" in page


def test_the_team_is_told_of_a_subject_in_other_cases_of_its_scope(app, team):
    with app.app_context(), unit_of_work():
        other = make_case(received_on=date(2026, 4, 1))
        make_person(other, role="subject", full_name="Someone Else", personnel_number="BGD-1234567")
        elsewhere = make_case(mission="MONUSCO", received_on=date(2026, 4, 1))
        make_person(elsewhere, role="subject", personnel_number="BGD-1234567")
        other_reference, elsewhere_reference = other.reference, elsewhere.reference
    page = text(team.client.get(f"/cases/{team.reference}"))
    assert "Subjects in other cases of your missions" in page
    assert other_reference in page and elsewhere_reference not in page


def test_the_case_page_carries_the_evidence_files_with_the_upload_form_for_the_team(
    app, team, user_factory, api_login
):
    page = text(team.client.get(f"/cases/{team.reference}"))
    section = page.split('aria-labelledby="attachments-title"')[1].split("</section>")[0]
    assert "Evidence files" in section and f"/cases/{team.reference}/attachments" in section
    colleague_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    other = text(login(app, api_login, colleague_id).get(f"/cases/{team.reference}"))
    assert "Evidence files" in other and 'type="file"' not in other


def test_paternity_claims_are_listed_with_details_for_the_team_only(
    app, team, user_factory, api_login
):
    with app.app_context(), unit_of_work():
        case = services.case_by_reference(team.reference)
        claim = PaternityClaim(
            case=case, filed_on=date(2026, 5, 2), status="dna_requested", details="CLAIM-CANARY"
        )
        claim.person_id = uuid.UUID(team.ids.victim)
        db.session.add(claim)
    page = text(team.client.get(f"/cases/{team.reference}"))
    section = page.split('id="paternity"')[1]
    assert "DNA sample requested" in section and "CLAIM-CANARY" in section
    assert f"Victim 1: {VICTIM}" in section
    colleague_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    other = text(login(app, api_login, colleague_id).get(f"/cases/{team.reference}"))
    assert "DNA sample requested" in other and "CLAIM-CANARY" not in other


# The list


@pytest.fixture
def listed(app, team):
    """Five more MINUSCA cases (two of them other misconduct), one of MONUSCO, by date."""
    with app.app_context(), unit_of_work():
        for day in range(1, 6):
            other = day % 2 == 0
            make_case(
                received_on=date(2026, 4, day),
                category="other_misconduct" if other else "sexual_abuse",
                allegation_type="fraud" if other else "rape",
                narrative="LIST-CANARY narrative",
            )
        make_case(mission="MONUSCO", received_on=date(2026, 4, 9))
    return team


def shown_references(page: str) -> list[str]:
    return re.findall(r">(MINUSCA-2026-\d{4})<", page)


def test_the_list_shows_plain_and_coded_facts_only(app, listed):
    response = listed.client.get("/cases")
    assert response.status_code == 200
    page = text(response)
    assert "LIST-CANARY" not in page and "PAGE-CANARY" not in page
    assert re.findall(r">(MINUSCA-2026-\d{4})<", page)[:2] == [
        "MINUSCA-2026-0006",
        "MINUSCA-2026-0005",
    ]
    assert "MONUSCO" not in page.split("<tbody>")[1]
    assert "Received" in page and "Sexual abuse" in page and "overdue" in page


def test_filters_are_kept_through_the_pages(app, listed):
    first = text(listed.client.get("/cases?category=sexual_abuse&per_page=2"))
    assert "4 cases" in first
    assert re.findall(r">(MINUSCA-2026-\d{4})<", first) == [
        "MINUSCA-2026-0006",
        "MINUSCA-2026-0004",
    ]
    following = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "category=sexual_abuse" in following and "per_page=2" in following
    second = text(listed.client.get(following))
    assert shown_references(second) == ["MINUSCA-2026-0002", "MINUSCA-2026-0001"]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    (event,) = events(app, "case.list")[:1]
    assert "filter.category" in event.fields and "sexual_abuse" not in event.fields


def test_the_overdue_filter_keeps_only_overdue_cases(app, listed):
    with app.app_context(), unit_of_work():
        fresh = make_case(received_on=date.today())
        reference = fresh.reference
    everything = text(listed.client.get("/cases"))
    assert reference in everything
    overdue = text(listed.client.get("/cases?overdue=1&mission=MINUSCA"))
    assert reference not in overdue
    assert "6 cases" in overdue
    assert listed.client.get("/cases?mission=UNMISS").status_code == 400
    assert listed.client.get("/cases?status=lost").status_code == 400


def test_a_recused_officer_is_refused_every_page_of_the_case(app, team, user_factory, api_login):
    recused_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    with app.app_context(), unit_of_work():
        case = services.case_by_reference(team.reference)
        case.recusals.append(CaseRecusal(user_id=recused_id))
    recused = login(app, api_login, recused_id)
    for path in case_pages(team.reference)[3:]:
        assert recused.get(path).status_code == 403, path
    assert team.reference not in text(recused.get("/cases"))

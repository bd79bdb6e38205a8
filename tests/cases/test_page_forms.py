"""The case team's forms: changing a case (with version conflicts), transfers, items, workflow,
and the officer's own overdue items."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from babel.dates import format_date

from conduct.cases import services
from conduct.cases.models import (
    CaseTeamMember,
    Finding,
    InterimMeasure,
    Person,
    Referral,
    StatusChange,
)
from conduct.core.db import unit_of_work, utcnow
from tests.cases.pages import count, events, login, make_team, post, stored, text
from tests.factories import make_case


@pytest.fixture
def team(app, user_factory, api_login):
    return make_team(app, user_factory, api_login)


def form_fields(page: str) -> dict[str, str]:
    """The values of a form's inputs, text areas and selected options, as a browser sends them."""
    values = {}
    for match in re.finditer(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        values[match.group(1)] = match.group(2).replace("&#34;", '"').replace("&quot;", '"')
    for match in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>\r?\n?([^<]*)</textarea>', page):
        values[match.group(1)] = match.group(2)
    for match in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', match.group(2)) or re.search(
            r'<option value="([^"]*)"', match.group(2)
        )
        values[match.group(1)] = chosen.group(1) if chosen else ""
    return values


@pytest.fixture
def colleague(app, team, user_factory, api_login):
    """Another officer of the case's team, logged in."""
    user_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    with app.app_context(), unit_of_work():
        case = services.case_by_reference(team.reference)
        case.team.append(CaseTeamMember(user_id=user_id))
    return login(app, api_login, user_id)


# Changing a case


def test_an_edit_saves_only_what_changed(app, team):
    url = f"/cases/{team.reference}/edit"
    fields = form_fields(text(team.client.get(url)))
    assert fields["version"] == "1" and fields["category"] == "sexual_abuse"
    response = team.client.post(url, data={**fields, "location": "Bangui, PK12"})
    assert response.status_code == 302, text(response)
    assert stored(app, team.reference, "version", "location") == (2, "Bangui, PK12")
    (event,) = events(app, "case.update")
    assert event.fields == "location"


def test_a_stale_edit_shows_the_other_change_and_stores_nothing(app, team, colleague):
    url = f"/cases/{team.reference}/edit"
    fields = form_fields(text(team.client.get(url)))
    theirs = form_fields(text(colleague.get(url)))
    changed = {**theirs, "category": "sexual_exploitation", "allegation_type": "transactional_sex"}
    assert colleague.post(url, data=changed).status_code == 302
    mine = {**fields, "allegation_type": "rape", "notes": "My own note."}

    response = team.client.post(url, data=mine)

    assert response.status_code == 409
    page = text(response)
    rows = re.findall(r'<tr id="conflict-([a-z_]+)">', page)
    assert set(rows) == {"category", "allegation_type"}, "only the fields the other person changed"
    category_row = page.split('id="conflict-category"')[1].split("</tr>")[0]
    assert "Sexual exploitation" in category_row and "Sexual abuse" in category_row
    type_row = page.split('id="conflict-allegation_type"')[1].split("</tr>")[0]
    assert "Transactional sex" in type_row and "Rape" in type_row
    again = form_fields(page)
    assert again["notes"] == "My own note.", "the user's input is kept"
    assert again["version"] == "2", "a resubmission applies on top of the new version"
    assert stored(app, team.reference, "version", "category", "allegation_type", "notes") == (
        2,
        "sexual_exploitation",
        "transactional_sex",
        None,
    )
    refusal = events(app, "request.refused")[-1]
    assert refusal.outcome == "failed" and refusal.fields == "version"

    # The user takes the other person's category and type, and keeps their own note.
    accepted = {"category": "sexual_exploitation", "allegation_type": "transactional_sex"}
    resubmitted = team.client.post(url, data={**again, **accepted})
    assert resubmitted.status_code == 302, text(resubmitted)
    assert stored(app, team.reference, "version", "category", "notes") == (
        3,
        "sexual_exploitation",
        "My own note.",
    )


def test_a_bad_edit_shows_the_problem_and_stores_nothing(app, team):
    url = f"/cases/{team.reference}/edit"
    fields = form_fields(text(team.client.get(url)))
    response = team.client.post(url, data={**fields, "incident_date": "last week"})
    assert response.status_code == 400
    assert 'id="incident_date-error"' in text(response)
    assert stored(app, team.reference, "version") == (1,)


# Transfers


def test_a_transfer_moves_the_case_and_keeps_its_history(app, team):
    url = f"/cases/{team.reference}/transfer"
    assert 'value="MINUSCA"' not in text(team.client.get(url))
    refused = post(team.client, url, {"mission": "UNMISS", "reason": ""})
    assert refused.status_code == 400 and 'id="reason-error"' in text(refused)
    moved = post(team.client, url, {"mission": "UNMISS", "reason": "Moved with the battalion."})
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith("/cases"), "no longer in the officer's scope"
    assert stored(app, team.reference, "mission_code", "transfers") == ("UNMISS", 1)


# Items


def test_the_team_adds_persons_referrals_measures_and_findings(app, team):
    base = f"/cases/{team.reference}"
    person = post(team.client, f"{base}/persons/new", {"role": "witness", "full_name": "Paul"})
    assert person.status_code == 302
    assert count(app, Person) == 3

    refused = post(
        team.client,
        f"{base}/referrals/new",
        {"purpose": "medical", "entity": "medical", "referred_on": "2026-03-05"},
    )
    assert refused.status_code == 400 and 'id="consent-error"' in text(refused)
    assert count(app, Referral) == 0
    override = {
        "purpose": "medical",
        "entity": "medical",
        "referred_on": "2026-03-05",
        "consent": "override",
        "override_reason": "The victim is a child in danger.",
    }
    assert post(team.client, f"{base}/referrals/new", override).status_code == 302
    assert [e.action for e in events(app, "referral.consent_override")]
    page = text(team.client.get(base))
    assert "Shared without consent: The victim is a child in danger." in page
    investigation = {
        "purpose": "investigation",
        "entity": "oios",
        "referred_on": "2026-03-05",
        "due_on": "2026-03-20",
    }
    assert post(team.client, f"{base}/referrals/new", investigation).status_code == 302

    page = text(team.client.get(base))
    assert "Referral answer due: due Mar 20, 2026" in page
    with app.app_context(), unit_of_work():
        referral_id = next(
            r.id
            for r in services.case_by_reference(team.reference).referrals
            if r.purpose == "investigation"
        )
    answered = post(
        team.client,
        f"{base}/referrals/{referral_id}",
        {"acknowledged_on": "2026-03-07", "status": "sent"},
    )
    assert answered.status_code == 302
    assert "Referral answer due" not in text(team.client.get(base))

    measure = {
        "person_id": team.ids.subject,
        "type": "administrative_leave",
        "started_on": "2026-03-06",
    }
    assert post(team.client, f"{base}/measures/new", measure).status_code == 302
    assert count(app, InterimMeasure) == 1
    finding = {
        "person_id": team.ids.subject,
        "finding": "substantiated",
        "actions": ["repatriation", "ban_from_future_service"],
        "decided_on": "2026-05-01",
        "decided_by": "oios",
    }
    assert post(team.client, f"{base}/findings/new", finding).status_code == 302
    page = text(team.client.get(base))
    assert "Repatriation, Ban from future service" in page
    assert "Every subject of this case has a finding" in text(
        team.client.get(f"{base}/findings/new")
    )
    assert count(app, Finding) == 1


def test_a_finding_on_a_victim_is_refused_next_to_the_field(app, team):
    finding = {
        "person_id": team.ids.victim,
        "finding": "substantiated",
        "decided_on": "2026-05-01",
        "decided_by": "oios",
    }
    response = post(team.client, f"/cases/{team.reference}/findings/new", finding)
    assert response.status_code == 400
    assert "not a subject of this case" in text(response)
    assert count(app, Finding) == 0


def test_the_workflow_offers_only_the_moves_the_table_allows(app, team):
    url = f"/cases/{team.reference}/transition"
    page = text(team.client.get(url))
    offered = re.findall(
        r'<option[^>]*value="([a-z_]+)"', page.split('name="to"')[1].split("</select>")[0]
    )
    assert offered == ["preliminary_assessment", "referred", "closed_other"]
    assert "needs a referral with purpose investigation first" in page

    no_reason = post(team.client, url, {"to": "closed_other", "version": "1"})
    assert no_reason.status_code == 400 and 'id="reason-error"' in text(no_reason)
    moved = post(team.client, url, {"to": "preliminary_assessment", "version": "1"})
    assert moved.status_code == 302
    stale = post(team.client, url, {"to": "closed_other", "reason": "Duplicate.", "version": "1"})
    assert stale.status_code == 409
    assert stored(app, team.reference, "status", "version") == ("preliminary_assessment", 2)
    closed = post(team.client, url, {"to": "closed_other", "reason": "Duplicate.", "version": "2"})
    assert closed.status_code == 302
    page = text(team.client.get(f"/cases/{team.reference}"))
    assert "Duplicate." in page and "Closed (other)" in page


# The officer's own overdue items


def test_the_overdue_page_lists_exactly_the_officers_overdue_items(app, team):
    today = utcnow().date()
    with app.app_context(), unit_of_work() as session:

        def mine(**fields):
            case = make_case(**fields)
            case.team.append(CaseTeamMember(user_id=team.id))
            return case

        # The fixture's case was received on 2 March 2026 and never referred.
        late_answer = mine(received_on=today - timedelta(days=3))
        session.add(
            Referral(
                case=late_answer,
                purpose="investigation",
                entity="oios",
                status="sent",
                referred_on=today - timedelta(days=3),
                due_on=today - timedelta(days=2),
            )
        )
        on_time = mine(received_on=today - timedelta(days=2))
        closed = mine(received_on=date(2026, 1, 6), status="closed")
        not_mine = make_case(received_on=date(2026, 1, 5))
        elsewhere = make_case(mission="MONUSCO", received_on=date(2026, 1, 7))
        elsewhere.team.append(CaseTeamMember(user_id=team.id))
        quiet = (on_time.reference, closed.reference, not_mine.reference, elsewhere.reference)
        late = late_answer.reference

    page = text(team.client.get("/cases/overdue"))

    rows = re.findall(
        r'<td><a href="/cases/([^"]+)">[^<]*</a></td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>'
        r'\s*<td>([^<]*)</td>\s*<td class="overdue">(\d+)</td>',
        page,
    )
    assert sorted(rows) == sorted(
        [
            (
                team.reference,
                "Referral for investigation not made",
                "Mar 9, 2026",
                str((today - date(2026, 3, 9)).days),
            ),
            (late, "Referral answer due", format_date(today - timedelta(days=2), locale="en"), "2"),
        ]
    )
    assert not any(reference in page for reference in quiet)
    (event,) = events(app, "case.overdue")
    assert event.actor_id == team.id and "referrals.due_on" in event.fields


def test_a_member_state_reply_overdue_is_listed_from_the_cases_history(app, team):
    with app.app_context(), unit_of_work() as session:
        waiting = make_case(received_on=date(2026, 2, 2), status="pending_member_state")
        waiting.team.append(CaseTeamMember(user_id=team.id))
        session.add(
            Referral(
                case=waiting,
                purpose="investigation",
                entity="tcc_pcc_nio",
                status="acknowledged",
                referred_on=date(2026, 2, 3),
                acknowledged_on=date(2026, 2, 4),
            )
        )
        session.add(
            StatusChange(
                case=waiting,
                from_status="under_investigation",
                to_status="pending_member_state",
                at=datetime(2026, 2, 6, 12, tzinfo=UTC),
            )
        )
        reference = waiting.reference
    page = text(team.client.get("/cases/overdue"))
    row = page.split(f'<a href="/cases/{reference}">')[1].split("</tr>")[0]
    # 10 working days after Friday 6 February 2026: Friday 20 February.
    assert "Member-state reply due" in row and "Feb 20, 2026" in row
    listed = text(team.client.get("/cases?overdue=1&status=pending_member_state"))
    assert reference in listed and "1 case," in listed

"""The auditor workspace pages: filter form and table, a case's access, flags, CSV link."""

from __future__ import annotations

import html

from sqlalchemy import select

from conduct.audit.models import AuditEvent
from conduct.core.db import db
from tests.audit.conftest import case_ref, moment


def _page(client, path, **params) -> tuple[int, str]:
    response = client.get(path, query_string=params or None)
    return response.status_code, html.unescape(response.get_data(as_text=True))


def _actions(app, actor_id) -> list[str]:
    with app.app_context():
        query = select(AuditEvent.action).where(AuditEvent.actor_id == actor_id)
        return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_the_navigation_shows_the_audit_log_to_auditors_only(app, people, user_factory, api_login):
    status, page = _page(people.auditor, "/")
    assert status == 200 and 'href="/audit/events"' in page
    officer_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    officer = app.test_client()
    assert api_login(officer, officer_id).status_code == 200
    status, page = _page(officer, "/")
    assert status == 200 and "/audit/events" not in page


def test_the_event_page_filters_and_shows_emails_and_a_csv_link(app, people, history):
    alice, bob = people.officers
    history("case.read", at=moment("2026-03-02 09:00"), actor=alice, case=case_ref(1))
    history("case.read", at=moment("2026-03-02 10:00"), actor=bob, case=case_ref(2))
    status, page = _page(
        people.auditor, "/audit/events", actor=alice.email, since="2026-03-01", until=""
    )
    assert status == 200
    assert alice.email in page and "MINUSCA-2026-0001" in page
    assert bob.email not in page and "MINUSCA-2026-0002" not in page
    assert f'value="{alice.email}"' in page, "the form keeps the filters"
    assert "/api/v1/audit/events.csv?" in page and "since=2026-03-01" in page
    assert 'href="/audit/cases/MINUSCA-2026-0001"' in page
    assert _actions(app, people.auditor_id)[-1] == "audit.events.read"


def test_the_event_page_pages_through_older_events(people, history):
    alice = people.officers[0]
    for day in range(1, 6):
        history("case.read", at=moment(f"2026-03-0{day} 09:00"), actor=alice, case=case_ref(day))
    status, page = _page(people.auditor, "/audit/events", actor=str(alice.id), per_page="2")
    assert status == 200 and "MINUSCA-2026-0005" in page and "MINUSCA-2026-0003" not in page
    assert "Older events" in page
    link = page.split('<a href="')[-1].split('">Older events')[0]
    status, older = _page(people.auditor, link)
    assert status == 200 and "MINUSCA-2026-0003" in older and "MINUSCA-2026-0005" not in older


def test_bad_filters_show_the_form_again_with_the_problem(app, people):
    status, page = _page(people.auditor, "/audit/events", since="last week", outcome="maybe")
    assert status == 400
    assert "give an ISO date" in page and "Must be one of" in page
    assert 'value="last week"' in page
    refusal = _actions(app, people.auditor_id)[-1]
    assert refusal == "request.refused"
    status, page = _page(people.auditor, "/audit/events", actor="nobody@conduct.test")
    assert status == 400 and "no account has this id or email" in page


def test_the_case_access_page_and_its_lookup_form(app, people, history):
    alice = people.officers[0]
    history("case.read", at=moment("2026-03-02 09:00"), actor=alice, case=case_ref(1))
    history("case.update", at=moment("2026-03-02 09:05"), actor=alice, case=case_ref(1))
    status, page = _page(people.auditor, "/audit/cases")
    assert status == 200 and 'name="reference"' in page
    response = people.auditor.get("/audit/cases", query_string={"reference": "MINUSCA-2026-0001"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/audit/cases/MINUSCA-2026-0001")
    status, page = _page(people.auditor, "/audit/cases/MINUSCA-2026-0001")
    assert status == 200 and alice.email in page
    assert "case.read × 1" in page and "case.update × 1" in page
    assert "2026-03-02 09:00:00 UTC" in page and "2026-03-02 09:05:00 UTC" in page
    assert _actions(app, people.auditor_id)[-1] == "audit.case_access.read"
    status, page = _page(people.auditor, "/audit/cases", reference="Jean Dupont")
    assert status == 400 and "give a case reference" in page


def test_the_flags_page_links_each_flag_to_its_events(people, history):
    bob = people.officers[1]
    history("request.refused", at=moment("2026-03-03 10:00"), actor=bob, outcome="denied")
    status, page = _page(people.auditor, "/audit/flags", since="2026-03-01", until="2026-03-31")
    assert status == 200
    assert "denials" in page and bob.email in page and "1 event" in page
    assert "/audit/events?since=2026-03-03T10" in page and f"actor={bob.id}" in page
    status, page = _page(people.auditor, "/audit/flags", kind="strange")
    assert status == 400 and "Must be one of" in page

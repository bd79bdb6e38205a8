"""Helpers of the case pages' tests: a logged-in case-team officer, forms posted with a token."""

from __future__ import annotations

import re
from types import SimpleNamespace

from sqlalchemy import func, select

from conduct.audit.models import AuditEvent
from conduct.cases import services
from conduct.cases.models import Case, CaseTeamMember
from conduct.core.db import db, unit_of_work
from tests.factories import make_case, make_person

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VICTIM = "Awa PAGE-CANARY Traoré"
NARRATIVE = "NARRATIVE-CANARY reported through the network."
NEW_CASE = {
    "mission": "MINUSCA",
    "received_on": "2026-03-04",
    "category": "sexual_exploitation",
    "allegation_type": "transactional_sex",
    "source": "ngo",
    "incident_date": "2026-02",
    "narrative": "Reported by an NGO in PK5.",
}


def login(app, api_login, user_id):
    client = app.test_client()
    assert api_login(client, user_id).status_code == 200
    client.user_id = user_id
    return client


def token(client, path="/account/password") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return TOKEN.search(page.get_data(as_text=True)).group(1)


def post(client, path, data, token_from="/account/password"):
    return client.post(path, data={"csrf_token": token(client, token_from), **data})


def text(response) -> str:
    return response.get_data(as_text=True)


def count(app, model=Case) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def stored(app, reference, *names):
    """Values of the case as stored (lists as their length)."""
    with app.app_context(), unit_of_work():
        case = services.case_by_reference(reference)
        values = [getattr(case, name) for name in names]
        return tuple(len(value) if isinstance(value, list) else value for value in values)


def events(app, action=None) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        return list(db.session.scalars(query))


def make_team(app, user_factory, api_login):
    """A logged-in MINUSCA officer on the team of ``team.reference`` (a victim, a subject)."""
    user_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    with app.app_context(), unit_of_work():
        case = make_case(narrative=NARRATIVE)
        case.team.append(CaseTeamMember(user_id=user_id))
        victim = make_person(case, full_name=VICTIM)
        subject = make_person(
            case,
            role="subject",
            full_name="Jean Dupont",
            personnel_number="BGD-1234567",
            sex="male",
            personnel_category="military_contingent",
            nationality="BGD",
        )
        ids = SimpleNamespace(victim=str(victim.id), subject=str(subject.id))
        reference = case.reference
    client = login(app, api_login, user_id)
    return SimpleNamespace(client=client, id=user_id, reference=reference, ids=ids)

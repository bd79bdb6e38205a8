"""Every route x every role x own/other mission x team/not team, against the permission table.

The walk reads the application's URL map, so a new route is covered the moment it exists: it
must be open (``OPEN_ENDPOINTS``) or declare a permission, and every persona's answer must
match what the permission table and the object rules say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from werkzeug.routing import Rule

from conduct.auth.models import User
from conduct.cases.attachments import Upload, add_attachment
from conduct.cases.models import CaseRecusal, CaseTeamMember
from conduct.core.db import db, unit_of_work
from conduct.core.permissions import (
    OPEN_ENDPOINTS,
    PERMISSIONS,
    TEAM_ONLY,
    has_permission,
    required_permission,
)
from tests.factories import make_case, make_person, make_user


@dataclass(frozen=True)
class Persona:
    name: str
    roles: tuple[str, ...] = ()
    missions: tuple[str, ...] = ()
    team: bool = False
    recused: bool = False

    @property
    def anonymous(self) -> bool:
        return not self.roles


PERSONAS = [
    Persona("anonymous"),
    Persona("officer-team", ("officer",), ("MINUSCA",), team=True),
    Persona("officer-mission", ("officer",), ("MINUSCA",)),
    Persona("officer-recused", ("officer",), ("MINUSCA",), recused=True),
    Persona("officer-other-mission", ("officer",), ("MONUSCO",)),
    Persona("leadership", ("leadership",)),
    Persona("auditor", ("auditor",)),
    Persona("admin", ("admin",)),
    Persona("vetting", ("vetting",)),
]

# A sample value for each URL parameter a route may take. A route with a parameter not listed
# here fails the walk: add its sample.
SAMPLES = {
    "reference": lambda world: world["reference"],
    "user_id": lambda world: world["user_id"],
    "item_id": lambda world: world["item_id"],
    "person_id": lambda world: world["item_id"],
    "attachment_id": lambda world: world["attachment_id"],
    "code": lambda world: "UNDOF",
    "mission": lambda world: "UNDOF",
    "filename": lambda world: "conduct.css",
    "table": lambda world: "allegations",
}

SKIPPED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def app_settings():
    """Each persona logs in afresh for every route: throttling is tested elsewhere."""
    return {"CONDUCT_LOGIN_RATE_LIMIT": "10000 per minute"}


@pytest.fixture
def world(app, user_factory):
    """A case of MINUSCA with a victim, its team, a recused officer, and one user per persona."""
    users = {}
    with app.app_context(), unit_of_work():
        for persona in PERSONAS:
            if not persona.anonymous:
                users[persona.name] = make_user(persona.roles, persona.missions).id
        case = make_case(narrative="TEAM-ONLY narrative")
        person = make_person(case, full_name="TEAM-ONLY victim name")
        for persona in PERSONAS:
            if persona.team:
                case.team.append(CaseTeamMember(user_id=users[persona.name]))
            if persona.recused:
                case.recusals.append(CaseRecusal(user_id=users[persona.name]))
        spare = make_user(("vetting",), ())
        team_user = db.session.get(User, users["officer-team"])
        evidence = Upload(b"%PDF-1.4 TEAM-ONLY file", "statement.pdf", "application/pdf")
        attachment = add_attachment(team_user, case, evidence, 1024)
        world = {
            "reference": case.reference,
            "users": users,
            "user_id": str(spare.id),
            "item_id": str(person.id),
            "attachment_id": str(attachment.id),
        }
    return world


def _routes(app) -> list[tuple[Rule, str]]:
    return sorted(
        (
            (rule, method)
            for rule in app.url_map.iter_rules()
            for method in rule.methods - SKIPPED_METHODS
        ),
        key=lambda pair: (pair[0].rule, pair[1]),
    )


def test_every_route_is_open_or_declares_a_known_permission(app):
    for rule, _ in _routes(app):
        if rule.endpoint in OPEN_ENDPOINTS:
            continue
        permission = required_permission(app.view_functions[rule.endpoint])
        assert permission in PERMISSIONS, f"{rule.rule} ({rule.endpoint}) declares no permission"


def _url(rule: Rule, world) -> str:
    values = {}
    for argument in rule.arguments:
        assert argument in SAMPLES, f"add a sample value for <{argument}> of {rule.rule}"
        values[argument] = SAMPLES[argument](world)
    return rule.build(values, append_unknown=False)[1]


def _client_for(app, persona, world, api_login):
    client = app.test_client()
    if not persona.anonymous:
        assert api_login(client, world["users"][persona.name]).status_code == 200
    return client


def _csrf_token(client) -> str | None:
    page = client.get("/login") if client.get_cookie("conduct_session") is None else None
    page = page or client.get("/account/password")
    found = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data)
    return found.group(1).decode() if found else None


def _send(client, method, url, is_api):
    if method == "GET":
        return client.get(url)
    if is_api:
        return client.open(url, method=method, json={})
    return client.open(url, method=method, data={"csrf_token": _csrf_token(client)})


def _expected(persona: Persona, rule: Rule, permission) -> str:
    """What the permission table and the object rules say this persona must get."""
    if rule.endpoint in OPEN_ENDPOINTS:
        return "open"
    if persona.anonymous:
        return "login"
    if not has_permission(_PersonaUser(persona), permission):
        return "forbidden"
    # The case object rules (mission scope, recusal, team) guard case permissions; auditors
    # read the log about any case, whatever its mission.
    if "reference" in rule.arguments and permission.startswith("case:"):
        if "MINUSCA" not in persona.missions:
            return "not_found"
        if persona.recused:
            return "forbidden"
        if permission in TEAM_ONLY and not persona.team:
            return "forbidden"
    return "allowed"


@dataclass(frozen=True)
class _PersonaUser:
    persona: Persona

    @property
    def roles(self):
        return self.persona.roles


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda persona: persona.name)
def test_each_persona_gets_what_the_table_says_on_every_route(app, world, api_login, persona):
    failures = []
    for rule, method in _routes(app):
        if rule.endpoint == "static":
            continue
        is_api = rule.rule.startswith("/api/")
        client = _client_for(app, persona, world, api_login)
        response = _send(client, method, _url(rule, world), is_api)
        permission = required_permission(app.view_functions[rule.endpoint])
        expected = _expected(persona, rule, permission)
        status = response.status_code
        ok = {
            "open": status not in (401, 403),
            "login": status == 401
            if is_api
            else (status == 302 and "/login" in response.headers["Location"]),
            "forbidden": status == 403,
            "not_found": status == 404,
            "allowed": status not in (401, 403, 404) and status < 500,
        }[expected]
        if not ok:
            failures.append(f"{method} {rule.rule}: expected {expected}, got {status}")
    assert failures == []


@pytest.mark.parametrize(
    "persona",
    [p for p in PERSONAS if "officer" in p.roles and not p.recused and "MINUSCA" in p.missions],
    ids=lambda p: p.name,
)
def test_only_the_case_team_sees_identities(app, world, api_login, persona):
    client = _client_for(app, persona, world, api_login)
    body = client.get(f"/api/v1/cases/{world['reference']}").get_json()
    shown = "TEAM-ONLY" in str(body)
    assert shown is persona.team
    assert body["category"] == "sexual_abuse" and body["persons"][0]["role"] == "victim"
    if not persona.team:
        assert "narrative" not in body and "full_name" not in body["persons"][0]


def test_refusals_on_cases_are_audited_with_the_case(app, world, api_login):
    from sqlalchemy import select

    from conduct.audit.models import AuditEvent

    outsider = next(p for p in PERSONAS if p.name == "officer-other-mission")
    client = _client_for(app, outsider, world, api_login)
    assert client.get(f"/api/v1/cases/{world['reference']}").status_code == 404
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "request.refused")
        ).one()
    assert event.case_reference == world["reference"]
    assert event.actor_id == world["users"][outsider.name]

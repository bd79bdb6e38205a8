"""The OpenAPI spec at /api/v1/openapi.json: complete, valid, and true to what the API answers.

The walk reads the application's URL map, so a new /api/v1 route fails here until its view
declares ``@documented(...)`` (see "How to document a new endpoint" in docs/api.md).
"""

from __future__ import annotations

import io
from datetime import date

import pyotp
import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec
from werkzeug.routing import Rule

from conduct.cases.models import CaseTeamMember
from conduct.core import api_docs
from conduct.core.api_docs import documented, documented_methods, openapi_path
from conduct.core.db import unit_of_work
from conduct.core.permissions import OPEN_ENDPOINTS, TEAM_ONLY, required_permission, requires
from tests.audit.support import seal_now
from tests.factories import make_case, make_person, make_user


@pytest.fixture
def spec(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def _api_routes(app) -> list[tuple[Rule, str]]:
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in documented_methods(rule)
    ]


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_api_route_and_method_is_in_the_spec(app, spec):
    routes = _api_routes(app)
    assert len(routes) >= 20
    missing = [
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule, method in routes
        if method.lower() not in spec["paths"].get(openapi_path(rule), {})
    ]
    assert missing == [], "add @documented(...) to these views (docs/api.md says how)"


def test_the_spec_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    validate_spec(spec)


def test_every_operation_names_the_permission_its_view_declares(app, spec):
    by_endpoint = {
        rule.endpoint: rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"
    }
    for path, method, operation in _operations(spec):
        endpoint = operation["operationId"].removesuffix(f".{method}")
        rule = by_endpoint[endpoint]
        assert openapi_path(rule) == path and method.upper() in rule.methods
        if endpoint in OPEN_ENDPOINTS:
            assert operation["x-permission"] == "open", path
            assert operation["security"] == [], path
        else:
            declared = required_permission(app.view_functions[endpoint])
            assert operation["x-permission"] == declared, path
            assert "security" not in operation and "401" in operation["responses"], path
            team = declared in TEAM_ONLY and "reference" in rule.arguments
            assert operation.get("x-case-team", False) is team, path
    assert spec["security"] == [{"session": []}]
    assert spec["components"]["securitySchemes"]["session"]["in"] == "cookie"


def test_operations_describe_their_parameters_bodies_and_errors(spec):
    paths = spec["paths"]
    listing = paths["/api/v1/cases"]["get"]
    queries = {p["name"] for p in listing["parameters"] if p["in"] == "query"}
    assert {"mission", "status", "category", "page", "per_page"} <= queries
    update = paths["/api/v1/cases/{reference}/persons/{item_id}"]["patch"]
    assert [p["name"] for p in update["parameters"] if p["in"] == "path"] == [
        "reference",
        "item_id",
    ]
    assert {"400", "401", "403", "404"} <= set(update["responses"])
    assert "409" in paths["/api/v1/cases/{reference}"]["patch"]["responses"]
    creation = paths["/api/v1/cases"]["post"]
    body = creation["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/CaseCreate"}
    assert "Location" in creation["responses"]["201"]["headers"]
    error = spec["components"]["schemas"]["ErrorDetailOut"]["properties"]
    assert set(error) == {"code", "message", "fields"}
    assert paths["/api/v1/session"]["delete"]["responses"]["204"] == {"description": "No Content"}


def test_the_spec_is_open_and_built_once_per_app(app, monkeypatch):
    builds = []
    real_build = api_docs.build_spec
    monkeypatch.setattr(api_docs, "build_spec", lambda app: builds.append(app) or real_build(app))
    client = app.test_client()
    first, second = client.get("/api/v1/openapi.json"), client.get("/api/v1/openapi.json")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert builds == [app]


def test_the_declaration_survives_either_decorator_order():
    @documented(answer=None, status=204)
    @requires("case:read")
    def outer():
        """Outer."""

    @requires("case:read")
    @documented(answer=None, status=204)
    def inner():
        """Inner."""

    for view in (outer, inner):
        assert api_docs.api_doc_of(view).status == 204
        assert required_permission(view) == "case:read"
    with pytest.raises(ValueError, match="418"):
        documented(errors=(418,))


def test_rule_arguments_become_openapi_path_parameters():
    assert openapi_path(Rule("/api/v1/cases/<reference>/x/<int:n>")) == (
        "/api/v1/cases/{reference}/x/{n}"
    )


# What the API answers must match what the spec says it answers.


class CheckedClient:
    """A test client that checks every answer against the spec: its status is documented for
    the operation, and its body validates against the documented schema."""

    def __init__(self, app, spec):
        self.client = app.test_client()
        self.adapter = app.url_map.bind("localhost")
        self.spec = spec

    def open(self, method: str, url: str, **kwargs):
        response = self.client.open(url, method=method, **kwargs)
        rule, _ = self.adapter.match(url.split("?")[0], method=method, return_rule=True)
        path = openapi_path(rule)
        operation = self.spec["paths"][path][method.lower()]
        status = str(response.status_code)
        assert status in operation["responses"], f"{method} {path} answered undocumented {status}"
        documented = operation["responses"][status]
        for header in documented.get("headers", {}):
            assert header in response.headers, f"{method} {path} answered no {header}"
        content = documented.get("content")
        if content is None:
            assert response.data == b""
            return response
        media = _media_type(content, response.mimetype)
        assert media is not None, f"{method} {path} answered undocumented {response.mimetype}"
        if response.mimetype != "application/json":
            return response
        schema = dict(media["schema"], components=self.spec["components"])
        validator = OAS30Validator(schema, format_checker=OAS30Validator.FORMAT_CHECKER)
        errors = [error.message for error in validator.iter_errors(response.get_json())]
        assert errors == [], f"{method} {path} {status}: {errors}"
        return response

    def get(self, url, **kwargs):
        return self.open("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.open("POST", url, **kwargs)

    def patch(self, url, **kwargs):
        return self.open("PATCH", url, **kwargs)

    def delete(self, url, **kwargs):
        return self.open("DELETE", url, **kwargs)


def _media_type(content: dict, mimetype: str) -> dict | None:
    """The documented media type an answer falls under: exact, ``type/*`` or ``*/*``."""
    for candidate in (mimetype, mimetype.split("/")[0] + "/*", "*/*"):
        if candidate in content:
            return content[candidate]
    return None


def _log_in(app, client, user_id):
    from conduct.auth.models import User
    from conduct.core.db import db
    from tests.factories import PASSWORD, fresh_code

    with app.app_context(), unit_of_work():
        user = db.session.get(User, user_id)
        email, code = user.email, fresh_code(user)
    body = {"email": email, "password": PASSWORD, "otp": code}
    assert client.post("/api/v1/session", json=body).status_code == 200


@pytest.fixture
def people(app):
    with app.app_context(), unit_of_work():
        officer = make_user(("officer",), ("MINUSCA",))
        other = make_user(("officer",), ("MINUSCA",))
        vetting = make_user(("vetting",), ())
        auditor = make_user(("auditor",), ())
        leader = make_user(("leadership",), ())
        newcomer = make_user(("vetting",), (), enrolled=False)
        case = make_case()
        case.team.append(CaseTeamMember(user_id=officer.id))
        victim = make_person(case, age_group="adult")
        return {
            "officer": officer.id,
            "other": other.id,
            "vetting": vetting.id,
            "auditor": auditor.id,
            "leader": leader.id,
            "newcomer": newcomer.email,
            "reference": case.reference,
            "victim": victim.id,
        }


def test_the_case_team_journey_answers_as_documented(app, spec, people):
    client = CheckedClient(app, spec)
    assert client.get("/api/v1/cases").status_code == 401
    _log_in(app, client.client, people["officer"])
    base = f"/api/v1/cases/{people['reference']}"
    created = client.post("/api/v1/cases", json={"mission": "MINUSCA", "received_on": "2026-03-01"})
    assert created.status_code == 201
    assert client.post("/api/v1/cases", json={"mission": 5}).status_code == 400
    assert client.get("/api/v1/cases?status=received&per_page=5").status_code == 200
    case = client.get(base).get_json()
    assert client.patch(base, json={"version": case["version"] + 5}).status_code == 409
    changed = client.patch(base, json={"version": case["version"], "location": None})
    assert changed.status_code == 200
    assert client.get("/api/v1/cases/MINUSCA-1999-0001").status_code == 404

    subject = client.post(
        f"{base}/persons",
        json={"role": "subject", "full_name": "Jean Dupont", "personnel_number": "BGD-1"},
    ).get_json()
    assert client.patch(f"{base}/persons/{people['victim']}", json={"sex": None}).status_code == 200
    referral = client.post(
        f"{base}/referrals",
        json={"entity": "oios", "purpose": "investigation", "referred_on": "2026-03-05"},
    ).get_json()
    patched = client.patch(f"{base}/referrals/{referral['id']}", json={"due_on": "2026-04-01"})
    assert patched.status_code == 200
    measure = client.post(
        f"{base}/measures", json={"type": "administrative_leave", "started_on": "2026-03-06"}
    ).get_json()
    assert client.patch(f"{base}/measures/{measure['id']}", json={}).status_code == 400
    ended = client.patch(f"{base}/measures/{measure['id']}", json={"ended_on": "2026-03-09"})
    assert ended.status_code == 200
    for status in ("preliminary_assessment", "referred", "under_investigation"):
        assert client.post(f"{base}/transitions", json={"to": status}).status_code == 201
    finding = client.post(
        f"{base}/findings",
        json={
            "person_id": subject["id"],
            "finding": "substantiated",
            "actions": ["repatriation"],
            "decided_on": "2026-05-20",
            "decided_by": "oios",
        },
    ).get_json()
    corrected = client.patch(f"{base}/findings/{finding['id']}", json={"actions": []})
    assert corrected.status_code == 200
    assert client.get(f"{base}/deadlines").status_code == 200
    claim = client.post(
        f"{base}/paternity-claims", json={"person_id": people["victim"], "filed_on": "2026-04-01"}
    ).get_json()
    progressed = client.patch(f"{base}/paternity-claims/{claim['id']}", json={"details": None})
    assert progressed.status_code == 200
    others = client.get(f"{base}/persons/{subject['id']}/other-cases")
    assert others.get_json()["other_cases"] == []
    assert client.get(base).get_json()["paternity_claims"]
    pdf = b"%PDF-1.7\n" + b"statement " * 50 + b"\n%%EOF\n"
    upload = {"file": (io.BytesIO(pdf), "statement.pdf", "application/pdf")}
    attached = client.post(f"{base}/attachments", data=upload, content_type="multipart/form-data")
    assert attached.status_code == 201
    assert client.get(attached.headers["Location"]).data == pdf
    missing = client.post(f"{base}/attachments", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400
    moved = client.post(f"{base}/transfer", json={"mission": "UNITAMS", "reason": "transition"})
    assert moved.status_code == 201
    assert client.delete("/api/v1/session").status_code == 204

    _log_in(app, client.client, people["other"])
    assert (
        client.post(
            "/api/v1/cases", json={"mission": "MINUSCA", "received_on": str(date.today())}
        ).status_code
        == 201
    )
    assert client.get(created.headers["Location"]).status_code == 200
    assert client.patch(created.headers["Location"], json={"version": 1}).status_code == 403


def test_sessions_screening_and_probes_answer_as_documented(app, spec, people):
    client = CheckedClient(app, spec)
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    refused = client.post("/api/v1/session", json={"email": "x@y.z", "password": "wrong"})
    assert refused.status_code == 401
    body = {"email": people["newcomer"], "password": "amber-quarry-lantern-47"}
    enrolment = client.post("/api/v1/session", json=body)
    assert set(enrolment.get_json()) == {"mfa_enrollment"}
    assert client.post("/api/v1/session/mfa", json={}).status_code == 400
    code = pyotp.TOTP(enrolment.get_json()["mfa_enrollment"]["secret"]).now()
    confirmed = client.post("/api/v1/session/mfa", json={"otp": code})
    assert confirmed.status_code == 200 and confirmed.get_json()["recovery_codes"]
    assert client.post("/api/v1/session/mfa", json={"otp": code}).status_code == 401

    _log_in(app, client.client, people["vetting"])
    asked = client.post("/api/v1/screening", json={"personnel_number": "BGD-1234567"})
    assert asked.get_json() == {"match": False}
    assert client.post("/api/v1/screening", json={"full_name": "A"}).status_code == 400
    assert client.get("/api/v1/cases").status_code == 403
    cross_site = client.post(
        "/api/v1/screening", json={}, headers={"Origin": "https://elsewhere.example"}
    )
    assert cross_site.status_code == 403


def test_uploads_text_answers_and_described_path_parameters_are_valid_openapi():
    """The forms of declaration the current routes do not use yet, on an application of
    their own: a multipart upload, a text answer, and a path parameter with its own schema."""
    from flask import Flask
    from marshmallow import Schema, fields, validate

    class UploadForm(Schema):
        description = fields.String(required=True, validate=validate.Length(max=500))

    class TablePath(Schema):
        table = fields.String(validate=validate.OneOf(["allegations", "victims"]))

    small = Flask(__name__)

    @small.post("/api/v1/cases/<reference>/files")
    @documented(form=UploadForm, files=("file",), answer={"type": "object"}, status=201)
    @requires("case:attach")
    def upload(reference):
        """Upload."""

    @small.get("/api/v1/tables/<table>")
    @documented(path=TablePath, answer={"type": "string"}, media_type="text/plain")
    @requires("report:view")
    def table(table):
        """A table as text."""

    spec = api_docs.build_spec(small)
    validate_spec(spec)
    upload_op = spec["paths"]["/api/v1/cases/{reference}/files"]["post"]
    form = upload_op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {"type": "string", "format": "binary"}
    assert form["required"] == ["description", "file"]
    assert {"400", "401", "403", "404", "413"} <= set(upload_op["responses"])
    table_op = spec["paths"]["/api/v1/tables/{table}"]["get"]
    (parameter,) = table_op["parameters"]
    assert parameter["required"] is True and parameter["schema"]["enum"] == [
        "allegations",
        "victims",
    ]
    assert table_op["responses"]["200"]["content"] == {"text/plain": {"schema": {"type": "string"}}}


def test_the_auditor_workspace_answers_as_documented(app, spec, people):
    client = CheckedClient(app, spec)
    _log_in(app, client.client, people["officer"])
    assert client.get(f"/api/v1/cases/{people['reference']}").status_code == 200
    _log_in(app, client.client, people["auditor"])
    page = client.get("/api/v1/audit/events?per_page=1")
    assert page.status_code == 200 and page.get_json()["next"]
    assert client.get(page.get_json()["next"]).status_code == 200
    assert client.get("/api/v1/audit/events?since=yesterday").status_code == 400
    assert client.get("/api/v1/audit/events.csv?action=case.").status_code == 200
    access = client.get(f"/api/v1/audit/cases/{people['reference']}/access")
    assert access.get_json()["accounts"]
    assert client.get("/api/v1/audit/flags").status_code == 200
    with app.app_context():
        seal_now()  # the spec's own request already took this process's look at the log
    checkpoint = client.get("/api/v1/audit/checkpoint")
    assert checkpoint.status_code == 200 and checkpoint.mimetype == "text/plain"


@pytest.fixture
def fresh_reports():
    """Computed tables are kept per database name, which tests reuse: start and end without."""
    from conduct.reports import services as reports

    reports.clear_cache()
    yield
    reports.clear_cache()


def test_statistics_answer_as_documented(app, spec, people, fresh_reports):
    client = CheckedClient(app, spec)
    _log_in(app, client.client, people["leader"])
    table = client.get("/api/v1/reports/allegations?by=mission&by=category&year=2026")
    assert table.status_code == 200 and table.get_json()["rows"]
    assert client.get("/api/v1/reports/victims?by=colour").status_code == 400
    assert client.get("/api/v1/reports/people?by=mission").status_code == 404

"""The OpenAPI description of the JSON API, served at /api/v1/openapi.json.

Each JSON view says what it takes and answers with ``@documented(...)``, next to its route
and permission; the spec is built from the application's URL map and those declarations, so
it cannot list a route that does not exist, and a test fails for any /api/v1 route without
one. The permission of each operation comes from ``@requires`` (``x-permission``).

The spec is open to everyone: it is the same for every deployment, built from the code only
(no data, no setting, no mission list), and says nothing that docs/api.md does not.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import metadata
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, Response, current_app
from werkzeug.routing import Rule

from .permissions import OPEN_ENDPOINTS, TEAM_ONLY, required_permission
from .schemas import ErrorOut

blueprint = Blueprint("api_docs", __name__, url_prefix="/api/v1")

OPENAPI_VERSION = "3.0.3"
JSON = "application/json"
SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS"})
_EXTENSION_KEY = "conduct_openapi"

View = TypeVar("View", bound=Callable)

# What each error status means; a view's ``errors`` may say it more precisely.
ERROR_MEANINGS = {
    400: "bad input: `fields` names each field and its problems; nothing was stored",
    401: "not logged in",
    403: "not allowed: the permission is missing, the user is not on the case team or is "
    "recused, or the request came from another site",
    404: "not found, or not in the user's scope (indistinguishable on purpose)",
    409: "the `version` sent is stale: reload and apply the change again",
    413: "the upload is too large",
    429: "too many attempts: wait and try again",
    500: "the server failed; nothing was stored",
}

# Path parameters that several routes share; a view may describe others with ``path=``.
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "reference": {
        "description": "a case reference",
        "schema": {"type": "string", "example": "MINUSCA-2026-0007"},
    },
    "item_id": {
        "description": "the id of the item, as the case read shows it",
        "schema": {"type": "string", "format": "uuid"},
    },
    "person_id": {
        "description": "the id of a person of the case, as the case read shows it",
        "schema": {"type": "string", "format": "uuid"},
    },
}
_CONVERTER_TYPES = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}
_RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-zA-Z_]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")

API_DESCRIPTION = """\
The JSON API of Conduct. Log in with `POST /api/v1/session` and send the session cookie it
sets with every request. Bodies are JSON (uploads: multipart); requests whose `Origin` or
`Sec-Fetch-Site` header shows another site are refused with 403. Every error answers
`{"error": {"code", "message", "fields"}}`. `x-permission` on each operation names the
permission it needs (`open`: none, no login); `x-case-team` marks operations on one case that
only the case team may perform. docs/api.md says more about each endpoint.
"""


@dataclass(frozen=True)
class ApiDoc:
    """What a JSON view takes and answers, for the OpenAPI spec. See ``documented``."""

    body: Any = None
    form: Any = None
    files: tuple[str, ...] = ()
    query: Any = None
    path: Any = None
    answer: Any = None
    status: int = 200
    media_type: str = JSON
    errors: Mapping[int, str] = field(default_factory=dict)
    also: Mapping[int, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


def documented(
    *,
    body=None,
    form=None,
    files: Iterable[str] = (),
    query=None,
    path=None,
    answer=None,
    status: int = 200,
    media_type: str = JSON,
    errors: Iterable[int] | Mapping[int, str] = (),
    also: Mapping[int, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Callable[[View], View]:
    """Declare what a JSON view takes and answers; the OpenAPI spec is built from it.

    ``body``: the marshmallow schema of the JSON body; ``form`` and ``files``: the schema of a
    multipart body and the names of its file parts; ``query``: the schema of the query string;
    ``path``: a schema for path parameters not in ``PATH_PARAMETERS``. ``answer``: the schema
    of the answer (a list of schemas: one of them; a dict: a literal OpenAPI schema), sent with
    ``status`` as ``media_type``. ``errors``: error statuses beyond those the spec infers
    (401 unless open, 403, 404 with path parameters, 400 with any input), or a mapping of
    status to a more precise meaning. ``also``: other statuses answered with the same
    schema, and their meaning. ``headers``: headers of the answer (such as ``Location``) and
    what they hold. Put it right under the route decorator.
    """
    wanted = dict(errors) if isinstance(errors, Mapping) else dict.fromkeys(errors, "")
    unknown = set(wanted) - set(ERROR_MEANINGS)
    if unknown:
        raise ValueError(f"no meaning known for error statuses {sorted(unknown)}")
    doc = ApiDoc(
        body=body,
        form=form,
        files=tuple(files),
        query=query,
        path=path,
        answer=answer,
        status=status,
        media_type=media_type,
        errors=wanted,
        also=dict(also or {}),
        headers=dict(headers or {}),
    )

    def decorate(view: View) -> View:
        view.api_doc = doc  # type: ignore[attr-defined]
        return view

    return decorate


def api_doc_of(view) -> ApiDoc | None:
    return getattr(view, "api_doc", None)


def documented_methods(rule: Rule) -> list[str]:
    return sorted(set(rule.methods or ()) - SKIPPED_METHODS)


def openapi_path(rule: Rule) -> str:
    """The OpenAPI form of a Flask rule: ``/cases/<reference>`` becomes ``/cases/{reference}``."""
    return _RULE_ARGUMENT.sub(lambda found: "{" + found.group("name") + "}", rule.rule)


@blueprint.get("/openapi.json")
@documented(answer={"type": "object", "description": "this OpenAPI document"})
def openapi():
    """The OpenAPI 3 description of this API, built from the routes and their schemas."""
    return Response(spec_text(current_app._get_current_object()), mimetype=JSON)


def spec_text(app: Flask) -> str:
    """The spec as JSON text, built once per application (the routes do not change)."""
    cached = app.extensions.get(_EXTENSION_KEY)
    if cached is None:
        cached = json.dumps(build_spec(app), sort_keys=True, separators=(",", ":"))
        app.extensions[_EXTENSION_KEY] = cached
    return cached


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every documented route of ``app``."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Conduct API",
        version=_package_version(),
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        info={"description": API_DESCRIPTION},
        security=[{"session": []}],
    )
    spec.components.security_scheme(
        "session",
        {
            "type": "apiKey",
            "in": "cookie",
            "name": app.config.get("SESSION_COOKIE_NAME", "session"),
            "description": "the session cookie set by POST /api/v1/session",
        },
    )
    spec.components.schema("Error", schema=ErrorOut)
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        view = app.view_functions[rule.endpoint]
        doc = api_doc_of(view)
        if doc is None:
            continue
        methods = documented_methods(rule)
        operations = {
            method.lower(): _operation(rule, method, view, doc, plugin, several=len(methods) > 1)
            for method in methods
        }
        spec.path(path=openapi_path(rule), operations=operations)
    return spec.to_dict()


def _package_version() -> str:
    try:
        return metadata.version("conduct")
    except metadata.PackageNotFoundError:
        return "0"


def _operation(
    rule: Rule, method: str, view, doc: ApiDoc, plugin: MarshmallowPlugin, several: bool
) -> dict[str, Any]:
    is_open = rule.endpoint in OPEN_ENDPOINTS
    permission = "open" if is_open else required_permission(view)
    summary, description = _docstring(view)
    parameters = _path_parameters(rule, doc)
    if doc.query is not None:
        parameters.append({"in": "query", "schema": doc.query})
    operation: dict[str, Any] = {
        "operationId": f"{rule.endpoint}.{method.lower()}" if several else rule.endpoint,
        "summary": summary,
        "tags": [_tag(rule)],
        "responses": _responses(rule, doc, is_open),
        "x-permission": permission,
    }
    if parameters:
        operation["parameters"] = parameters
    case_team = permission in TEAM_ONLY and "reference" in rule.arguments
    if case_team:
        operation["x-case-team"] = True
    notes = [description, _permission_note(permission, case_team)]
    operation["description"] = "\n\n".join(note for note in notes if note)
    if is_open:
        operation["security"] = []
    body = _request_body(doc, plugin)
    if body is not None:
        operation["requestBody"] = body
    return operation


def _docstring(view) -> tuple[str, str]:
    text = inspect.cleandoc(view.__doc__ or "")
    first, _, rest = text.partition("\n\n")
    return " ".join(first.split()), rest.strip()


def _permission_note(permission: str | None, case_team: bool) -> str:
    if permission == "open":
        return "Open: no login needed."
    note = f"Needs the permission `{permission}`"
    return note + (", and the user on the case team." if case_team else ".")


def _tag(rule: Rule) -> str:
    """The API area a route belongs to: the first path segment after /api/v1."""
    parts = [part for part in rule.rule.split("/") if part]
    if parts[:2] == ["api", "v1"] and len(parts) > 2:
        return parts[2].split(".")[0]
    return "service"


def _path_parameters(rule: Rule, doc: ApiDoc) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    described = set()
    if doc.path is not None:
        parameters.append({"in": "path", "schema": doc.path})
        described = set(_schema_fields(doc.path))
    for found in _RULE_ARGUMENT.finditer(rule.rule):
        name = found.group("name")
        if name in described:
            continue
        known = PATH_PARAMETERS.get(name, {})
        schema = _CONVERTER_TYPES.get(found.group("converter") or "", {"type": "string"})
        parameter = {"in": "path", "name": name, "required": True, "schema": schema}
        parameters.append(parameter | known)
    return parameters


def _schema_fields(schema) -> list[str]:
    instance = schema() if isinstance(schema, type) else schema
    return [item.data_key or name for name, item in instance.fields.items()]


def _request_body(doc: ApiDoc, plugin: MarshmallowPlugin) -> dict[str, Any] | None:
    if doc.body is not None:
        return {"required": True, "content": {JSON: {"schema": doc.body}}}
    if doc.form is None and not doc.files:
        return None
    properties: dict[str, Any] = {}
    required: list[str] = []
    if doc.form is not None:
        # Inline, so the file parts can join the form's fields in one object.
        converted = plugin.converter.schema2jsonschema(doc.form)
        properties.update(converted.get("properties", {}))
        required += converted.get("required", [])
    for name in doc.files:
        properties[name] = {"type": "string", "format": "binary"}
        required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = sorted(required)
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def _responses(rule: Rule, doc: ApiDoc, is_open: bool) -> dict[str, Any]:
    responses = {str(doc.status): _answer(doc, doc.status)}
    for status, meaning in doc.also.items():
        responses[str(status)] = _answer(doc, status) | {"description": meaning}
    for status, meaning in sorted(_errors(rule, doc, is_open).items()):
        error_content = {JSON: {"schema": ErrorOut}}
        responses[str(status)] = {"description": meaning, "content": error_content}
    return responses


def _answer(doc: ApiDoc, status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": HTTPStatus(status).phrase}
    if doc.headers:
        answer["headers"] = {
            name: {"description": meaning, "schema": {"type": "string"}}
            for name, meaning in doc.headers.items()
        }
    if doc.answer is None:
        return answer
    if isinstance(doc.answer, list | tuple):
        schema: Any = {"oneOf": list(doc.answer)}
    else:
        schema = doc.answer
    answer["content"] = {doc.media_type: {"schema": schema}}
    return answer


def _errors(rule: Rule, doc: ApiDoc, is_open: bool) -> dict[int, str]:
    """The error statuses a route can answer: inferred from what it takes, plus its own."""
    statuses = set(doc.errors)
    if rule.rule.startswith("/api/"):
        statuses.add(403)
    if not is_open:
        statuses |= {401, 403}
    if rule.arguments:
        statuses.add(404)
    if any(part is not None for part in (doc.body, doc.form, doc.query)) or doc.files:
        statuses.add(400)
    if doc.form is not None or doc.files:
        statuses.add(413)
    return {status: doc.errors.get(status) or ERROR_MEANINGS[status] for status in statuses}

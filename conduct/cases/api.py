"""The cases JSON API under /api/v1/cases."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request, url_for

from conduct.core.api_docs import documented
from conduct.core.permissions import requires

from . import listing, services, transfer
from .schemas import (
    CaseCreateSchema,
    CaseListOut,
    CaseListQuery,
    CaseOut,
    CaseTransferredOut,
    CaseTransferSchema,
    CaseUpdateSchema,
    case_schema,
)

blueprint = Blueprint("cases_api", __name__, url_prefix="/api/v1/cases")


def _body() -> dict:
    return request.get_json(silent=True) or {}


def _case_answer(reference: str, status: int = 200):
    case, identities = services.read_case(g.actor, reference)
    response = jsonify(case_schema(identities).dump(case))
    response.status_code = status
    if status == 201:
        response.headers["Location"] = url_for("cases_api.get_case", reference=reference)
    return response


@blueprint.get("")
@documented(query=CaseListQuery, answer=CaseListOut)
@requires("case:read")
def list_cases():
    """Cases of the user's missions, newest first; no identity, no narrative."""
    query = CaseListQuery().load(request.args.to_dict())
    page = listing.list_cases(g.actor, query, query["page"], query["per_page"])
    return jsonify(CaseListOut().dump(page))


@blueprint.post("")
@documented(
    body=CaseCreateSchema, answer=CaseOut, status=201, headers={"Location": "the case's URL"}
)
@requires("case:create")
def create_case():
    """Record a new report; the reference is allocated by the service.

    The creator joins the case team; the answer is the case as ``GET`` shows it, with a
    ``Location`` header.
    """
    case = services.create_case(g.actor, CaseCreateSchema().load(_body()))
    return _case_answer(case.reference, status=201)


@blueprint.get("/<reference>")
@documented(answer=CaseOut)
@requires("case:read")
def get_case(reference: str):
    """One case, with identities for the case team and redacted for other officers.

    Other officers of the mission get no ``narrative``, ``location``, ``notes``, no identity
    of a person, no referral ``details`` and no ``reason`` of a move or transfer: those keys
    are absent. Every read is audited.
    """
    return _case_answer(reference)


@blueprint.post("/<reference>/transfer")
@documented(body=CaseTransferSchema, answer=CaseTransferredOut, status=201)
@requires("case:transfer")
def transfer_case(reference: str):
    """Move a case to another mission with a reason; its reference and history stay."""
    case = services.find_case_to_change(g.actor, reference)
    data = CaseTransferSchema().load(_body())
    moved = transfer.transfer_case(g.actor, case, data["mission"], data["reason"])
    answer = {
        "reference": case.reference,
        "mission_code": case.mission_code,
        "version": case.version,
        "transfer": moved,
    }
    return jsonify(CaseTransferredOut().dump(answer)), 201


@blueprint.patch("/<reference>")
@documented(body=CaseUpdateSchema, answer=CaseOut, errors=(409,))
@requires("case:update")
def update_case(reference: str):
    """Change a case's fields; ``version`` must be the one read (409 otherwise)."""
    case = services.find_case_to_change(g.actor, reference)
    data = CaseUpdateSchema().load(_body())
    services.update_case(g.actor, case, data.pop("version"), data)
    return _case_answer(reference)

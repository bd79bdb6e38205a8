"""The cases JSON API under /api/v1/cases."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request, url_for

from conduct.core.permissions import requires

from . import listing, services, transfer
from .schemas import (
    CaseCreateSchema,
    CaseListItem,
    CaseListQuery,
    CaseTransferSchema,
    CaseUpdateSchema,
    TransferOut,
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
@requires("case:read")
def list_cases():
    """Cases of the user's missions, newest first; no identity, no narrative."""
    query = CaseListQuery().load(request.args.to_dict())
    page = listing.list_cases(g.actor, query, query["page"], query["per_page"])
    return jsonify(
        items=CaseListItem(many=True).dump(page.items),
        total=page.total,
        page=page.page,
        per_page=page.per_page,
    )


@blueprint.post("")
@requires("case:create")
def create_case():
    """Record a new report; the reference is allocated by the service."""
    case = services.create_case(g.actor, CaseCreateSchema().load(_body()))
    return _case_answer(case.reference, status=201)


@blueprint.get("/<reference>")
@requires("case:read")
def get_case(reference: str):
    """One case, with identities for the case team and redacted for other officers."""
    return _case_answer(reference)


@blueprint.post("/<reference>/transfer")
@requires("case:transfer")
def transfer_case(reference: str):
    """Move a case to another mission with a reason; its reference and history stay."""
    case = services.find_case_to_change(g.actor, reference)
    data = CaseTransferSchema().load(_body())
    moved = transfer.transfer_case(g.actor, case, data["mission"], data["reason"])
    return jsonify(
        reference=case.reference,
        mission=case.mission_code,
        version=case.version,
        transfer=TransferOut().dump(moved),
    ), 201


@blueprint.patch("/<reference>")
@requires("case:update")
def update_case(reference: str):
    """Change a case's fields; ``version`` must be the one read (409 otherwise)."""
    case = services.find_case_to_change(g.actor, reference)
    data = CaseUpdateSchema().load(_body())
    services.update_case(g.actor, case, data.pop("version"), data)
    return _case_answer(reference)

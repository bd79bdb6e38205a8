"""The JSON API of a case's items: persons, referrals, findings, interim measures and
paternity claims.

Only the case team changes them; the team rule is checked before the body is read. Each
creation answers 201 with the item as the team sees it; bad input answers 400 naming the
fields and stores nothing.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from marshmallow import Schema, fields, validate

from conduct import codes
from conduct.core.api_docs import documented
from conduct.core.permissions import requires

from . import items, paternity, services
from .schemas import (
    FindingOut,
    MeasureOut,
    PaternityClaimOut,
    PersonCreate,
    PersonIn,
    PersonOut,
    ReferralOut,
)

blueprint = Blueprint("cases_items_api", __name__, url_prefix="/api/v1/cases")

MAX_DETAILS_LENGTH = 20000


def _code(code_list, **kwargs):
    return fields.String(validate=validate.OneOf(code_list.codes), **kwargs)


def _text(length: int):
    return fields.String(validate=validate.Length(max=length), allow_none=True)


class ReferralChange(Schema):
    """What changes on a referral once sent: the answer, its status, consent, details."""

    entity = _code(codes.REFERRAL_ENTITY)
    status = _code(codes.REFERRAL_STATUS)
    consent = _code(codes.CONSENT, allow_none=True)
    override_reason = fields.String(validate=validate.Length(max=MAX_DETAILS_LENGTH))
    due_on = fields.Date(allow_none=True)
    acknowledged_on = fields.Date(allow_none=True)
    details = _text(MAX_DETAILS_LENGTH)


class ReferralCreate(ReferralChange):
    entity = _code(codes.REFERRAL_ENTITY, required=True)
    purpose = _code(codes.REFERRAL_PURPOSE, required=True)
    referred_on = fields.Date(required=True)


class FindingCreate(Schema):
    person_id = fields.UUID(required=True)
    finding = _code(codes.FINDING, required=True)
    actions = fields.List(_code(codes.ACTION), load_default=list)
    decided_on = fields.Date(required=True)
    decided_by = _code(codes.INVESTIGATING_ENTITY, required=True)


class FindingChange(Schema):
    finding = _code(codes.FINDING)
    actions = fields.List(_code(codes.ACTION))
    decided_on = fields.Date()
    decided_by = _code(codes.INVESTIGATING_ENTITY)


class MeasureChange(Schema):
    type = _code(codes.INTERIM_MEASURE)
    started_on = fields.Date()
    ended_on = fields.Date(allow_none=True)


class MeasureCreate(Schema):
    person_id = fields.UUID(allow_none=True)
    type = _code(codes.INTERIM_MEASURE, required=True)
    started_on = fields.Date(required=True)
    ended_on = fields.Date(allow_none=True)


class PaternityClaimChange(Schema):
    person_id = fields.UUID(allow_none=True)
    status = _code(codes.PATERNITY_STATUS)
    filed_on = fields.Date()
    details = _text(MAX_DETAILS_LENGTH)


class PaternityClaimCreate(PaternityClaimChange):
    filed_on = fields.Date(required=True)


def _body() -> dict:
    return request.get_json(silent=True) or {}


def _created(schema: Schema, item):
    return jsonify(schema.dump(item)), 201


@blueprint.post("/<reference>/persons")
@documented(body=PersonCreate, answer=PersonOut, status=201)
@requires("case:update")
def create_person(reference: str):
    """Link a person (victim, subject, witness, reporter) to the case."""
    case = services.find_case_to_change(g.actor, reference)
    person = items.add_person(g.actor, case, PersonCreate().load(_body()))
    return _created(PersonOut(), person)


@blueprint.patch("/<reference>/persons/<item_id>")
@documented(body=PersonIn, answer=PersonOut)
@requires("case:update")
def update_person(reference: str, item_id: str):
    """Change a person's fields."""
    case = services.find_case_to_change(g.actor, reference)
    person = items.update_person(g.actor, case, item_id, PersonIn().load(_body()))
    return jsonify(PersonOut().dump(person))


@blueprint.post("/<reference>/referrals")
@documented(body=ReferralCreate, answer=ReferralOut, status=201)
@requires("case:update")
def create_referral(reference: str):
    """Refer the case; victim assistance needs consent, or an override with a reason."""
    case = services.find_case_to_change(g.actor, reference)
    referral = items.add_referral(g.actor, case, ReferralCreate().load(_body()))
    return _created(ReferralOut(), referral)


@blueprint.patch("/<reference>/referrals/<item_id>")
@documented(body=ReferralChange, answer=ReferralOut)
@requires("case:update")
def update_referral(reference: str, item_id: str):
    """Record an acknowledgement, a status, consent or details on a referral."""
    case = services.find_case_to_change(g.actor, reference)
    referral = items.update_referral(g.actor, case, item_id, ReferralChange().load(_body()))
    return jsonify(ReferralOut().dump(referral))


@blueprint.post("/<reference>/findings")
@documented(body=FindingCreate, answer=FindingOut, status=201)
@requires("case:update")
def create_finding(reference: str):
    """Record the finding on one subject and the actions taken."""
    case = services.find_case_to_change(g.actor, reference)
    finding = items.add_finding(g.actor, case, FindingCreate().load(_body()))
    return _created(FindingOut(), finding)


@blueprint.post("/<reference>/measures")
@documented(body=MeasureCreate, answer=MeasureOut, status=201)
@requires("case:update")
def create_measure(reference: str):
    """Record an interim measure, on a subject of the case or on the case as a whole."""
    case = services.find_case_to_change(g.actor, reference)
    measure = items.add_measure(g.actor, case, MeasureCreate().load(_body()))
    return _created(MeasureOut(), measure)


@blueprint.patch("/<reference>/findings/<item_id>")
@documented(body=FindingChange, answer=FindingOut)
@requires("case:update")
def update_finding(reference: str, item_id: str):
    """Correct a finding, its actions, date or deciding entity."""
    case = services.find_case_to_change(g.actor, reference)
    finding = items.update_finding(g.actor, case, item_id, FindingChange().load(_body()))
    return jsonify(FindingOut().dump(finding))


@blueprint.patch("/<reference>/measures/<item_id>")
@documented(body=MeasureChange, answer=MeasureOut)
@requires("case:update")
def update_measure(reference: str, item_id: str):
    """Record the end of an interim measure, or correct it."""
    case = services.find_case_to_change(g.actor, reference)
    measure = items.update_measure(g.actor, case, item_id, MeasureChange().load(_body()))
    return jsonify(MeasureOut().dump(measure))


@blueprint.post("/<reference>/paternity-claims")
@documented(body=PaternityClaimCreate, answer=PaternityClaimOut, status=201)
@requires("case:update")
def create_paternity_claim(reference: str):
    """Record a paternity or child-support claim."""
    case = services.find_case_to_change(g.actor, reference)
    data = PaternityClaimCreate().load(_body())
    return _created(PaternityClaimOut(), paternity.add_paternity_claim(g.actor, case, data))


@blueprint.patch("/<reference>/paternity-claims/<item_id>")
@documented(body=PaternityClaimChange, answer=PaternityClaimOut)
@requires("case:update")
def update_paternity_claim(reference: str, item_id: str):
    """Record a claim's progress, or correct it."""
    case = services.find_case_to_change(g.actor, reference)
    data = PaternityClaimChange().load(_body())
    claim = paternity.update_paternity_claim(g.actor, case, item_id, data)
    return jsonify(PaternityClaimOut().dump(claim))

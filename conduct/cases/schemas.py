"""marshmallow schemas of cases, per audience.

The case team sees every field. Other officers of the mission see the case with every
identifying field left out (identities, narrative, location, notes, referral details, reasons):
those fields are not even decrypted for them.
"""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from conduct import codes

PERSON_IDENTIFYING = (
    "full_name",
    "aliases",
    "date_of_birth",
    "personnel_number",
    "national_id",
    "contact",
)
CASE_IDENTIFYING = ("narrative", "location", "notes")


class PersonOut(Schema):
    id = fields.UUID()
    role = fields.String()
    sex = fields.String()
    age_group = fields.String()
    personnel_category = fields.String()
    nationality = fields.String()
    full_name = fields.String()
    aliases = fields.String()
    date_of_birth = fields.Date()
    personnel_number = fields.String()
    national_id = fields.String()
    contact = fields.String()


class ReferralOut(Schema):
    id = fields.UUID()
    entity = fields.String()
    purpose = fields.String()
    status = fields.String()
    consent = fields.String()
    referred_on = fields.Date()
    due_on = fields.Date()
    acknowledged_on = fields.Date()
    details = fields.String()
    override_reason = fields.String(attribute="consent_override_reason")


class StatusChangeOut(Schema):
    id = fields.UUID()
    from_status = fields.String(data_key="from")
    to_status = fields.String(data_key="to")
    at = fields.DateTime()
    by = fields.UUID(attribute="by_user_id")
    reason = fields.String()


class MeasureOut(Schema):
    id = fields.UUID()
    person_id = fields.UUID()
    type = fields.String()
    started_on = fields.Date()
    ended_on = fields.Date()


class FindingOut(Schema):
    id = fields.UUID()
    person_id = fields.UUID()
    finding = fields.String()
    actions = fields.List(fields.String())
    decided_on = fields.Date()
    decided_by = fields.String()


class PaternityClaimOut(Schema):
    id = fields.UUID()
    person_id = fields.UUID()
    status = fields.String()
    filed_on = fields.Date()
    details = fields.String()


class AttachmentOut(Schema):
    """An evidence file's description; the file itself is downloaded on its own."""

    id = fields.UUID()
    uploaded_at = fields.DateTime(attribute="created_at")
    uploaded_by = fields.UUID()
    filename = fields.String()
    content_type = fields.String()
    byte_size = fields.Integer()
    description = fields.String()


class TransferOut(Schema):
    id = fields.UUID()
    from_mission = fields.String(data_key="from")
    to_mission = fields.String(data_key="to")
    at = fields.DateTime()
    by = fields.UUID(attribute="by_user_id")
    reason = fields.String()


class CaseOut(Schema):
    id = fields.UUID()
    reference = fields.String()
    version = fields.Integer()
    mission = fields.String(attribute="mission_code")
    received_on = fields.Date()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    source = fields.String()
    category = fields.String()
    allegation_type = fields.String()
    status = fields.String()
    misconduct_class = fields.String()
    incident_date = fields.String()
    narrative = fields.String()
    location = fields.String()
    notes = fields.String()
    persons = fields.List(fields.Nested(PersonOut))
    referrals = fields.List(fields.Nested(ReferralOut))
    history = fields.List(fields.Nested(StatusChangeOut))
    measures = fields.List(fields.Nested(MeasureOut))
    findings = fields.List(fields.Nested(FindingOut))
    transfers = fields.List(fields.Nested(TransferOut))
    paternity_claims = fields.List(fields.Nested(PaternityClaimOut))
    attachments = fields.List(fields.Nested(AttachmentOut))


# The identifying fields of the case's item lists, left out for officers off the case team.
NESTED_IDENTIFYING = (
    *(f"persons.{name}" for name in PERSON_IDENTIFYING),
    "referrals.details",
    "referrals.override_reason",
    "history.reason",
    "transfers.reason",
    "paternity_claims.details",
    "attachments.filename",
    "attachments.content_type",
    "attachments.byte_size",
    "attachments.description",
)
REDACTED = (*CASE_IDENTIFYING, *NESTED_IDENTIFYING)


def case_schema(identities: bool) -> CaseOut:
    """The output schema for one audience: the team, or other officers of the mission."""
    return CaseOut() if identities else CaseOut(exclude=REDACTED)


def shown_fields(identities: bool) -> list[str]:
    """Names of the fields a read shows, for its audit event."""
    names = [name for name in CaseOut._declared_fields if identities or name not in REDACTED]
    if identities:
        names += NESTED_IDENTIFYING
    return names


def _code(codes):
    return fields.String(validate=validate.OneOf(codes.codes), allow_none=False)


class CaseFieldsSchema(Schema):
    """The fields an officer writes on a case (status moves only through transitions)."""

    incident_date = fields.String(validate=validate.Regexp(r"^\d{4}(-\d{2}(-\d{2})?)?$"))
    source = _code(codes.SOURCE)
    category = _code(codes.CATEGORY)
    allegation_type = _code(codes.ALLEGATION_TYPE)
    misconduct_class = _code(codes.MISCONDUCT_CLASS)
    narrative = fields.String(validate=validate.Length(max=20000), allow_none=True)
    location = fields.String(validate=validate.Length(max=500), allow_none=True)
    notes = fields.String(validate=validate.Length(max=20000), allow_none=True)

    @validates_schema
    def _type_fits_category(self, data, **_):
        category, kind = data.get("category"), data.get("allegation_type")
        if category is None or kind is None:
            return
        is_sea = kind in codes.SEA_ALLEGATION_TYPES
        if is_sea != (category != "other_misconduct"):
            raise ValidationError(
                f"{kind} is not an allegation type of {category}", "allegation_type"
            )


class CaseCreateSchema(CaseFieldsSchema):
    mission = fields.String(required=True, validate=validate.Length(min=2, max=16))
    received_on = fields.Date(required=True)

    @validates("received_on")
    def _not_in_future(self, value, **_):
        if value > date.today():
            raise ValidationError("cannot be in the future")


class CaseTransferSchema(Schema):
    mission = fields.String(required=True, validate=validate.Length(min=2, max=16))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class CaseUpdateSchema(CaseFieldsSchema):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class CaseListQuery(Schema):
    mission = fields.String(validate=validate.Length(min=2, max=16))
    status = _code(codes.STATUS)
    category = _code(codes.CATEGORY)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class CaseListItem(Schema):
    """A case in a list: plain and coded facts only, never an identity or a narrative."""

    id = fields.UUID()
    reference = fields.String()
    mission = fields.String()
    received_on = fields.Date()
    version = fields.Integer()
    status = fields.String()
    category = fields.String()
    allegation_type = fields.String()
    source = fields.String()

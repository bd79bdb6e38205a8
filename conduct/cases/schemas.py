"""marshmallow schemas of cases, per audience.

The case team sees every field. Other officers of the mission see the case with every
identifying field left out (identities, narrative, location, notes, referral details, reasons):
those fields are not even decrypted for them.
"""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from conduct import codes
from conduct.core.i18n import N_

from .deadlines import KINDS as DEADLINE_KINDS
from .workflow import MAX_REASON_LENGTH

PERSON_IDENTIFYING = (
    "full_name",
    "aliases",
    "date_of_birth",
    "personnel_number",
    "national_id",
    "contact",
)
CASE_IDENTIFYING = ("narrative", "location", "notes")


def _shown_code(code_list, nullable: bool = True, **kwargs):
    """A coded fact in an answer; ``allow_none`` and the enum only describe it for the docs."""
    choices = [*code_list.codes, None] if nullable else list(code_list.codes)
    return fields.String(allow_none=nullable, metadata={"enum": choices}, **kwargs)


def _shown(field_class, **kwargs):
    """A field of an answer that may be null (not recorded yet, or never)."""
    return field_class(allow_none=True, **kwargs)


class PersonOut(Schema):
    id = fields.UUID()
    role = _shown_code(codes.PERSON_ROLE, nullable=False)
    sex = _shown_code(codes.SEX)
    age_group = _shown_code(codes.AGE_GROUP)
    personnel_category = _shown_code(codes.PERSONNEL_CATEGORY)
    nationality = _shown(fields.String, metadata={"description": "ISO 3166 alpha-3"})
    full_name = _shown(fields.String)
    aliases = _shown(fields.String)
    date_of_birth = _shown(fields.Date)
    personnel_number = _shown(fields.String)
    national_id = _shown(fields.String)
    contact = _shown(fields.String)


class ReferralOut(Schema):
    id = fields.UUID()
    entity = _shown_code(codes.REFERRAL_ENTITY, nullable=False)
    purpose = _shown_code(codes.REFERRAL_PURPOSE, nullable=False)
    status = _shown_code(codes.REFERRAL_STATUS, nullable=False)
    consent = _shown_code(codes.CONSENT)
    referred_on = fields.Date()
    due_on = _shown(fields.Date)
    acknowledged_on = _shown(fields.Date)
    details = _shown(fields.String)
    override_reason = _shown(fields.String, attribute="consent_override_reason")


class StatusChangeOut(Schema):
    id = fields.UUID()
    from_status = _shown_code(codes.STATUS, data_key="from")
    to_status = _shown_code(codes.STATUS, nullable=False, data_key="to")
    at = fields.DateTime()
    by = _shown(fields.UUID, attribute="by_user_id")
    reason = _shown(fields.String)


class MeasureOut(Schema):
    id = fields.UUID()
    person_id = _shown(fields.UUID, metadata={"description": "null: on the case as a whole"})
    type = _shown_code(codes.INTERIM_MEASURE, nullable=False)
    started_on = fields.Date()
    ended_on = _shown(fields.Date)


class FindingOut(Schema):
    id = fields.UUID()
    person_id = fields.UUID()
    finding = _shown_code(codes.FINDING, nullable=False)
    actions = fields.List(_shown_code(codes.ACTION, nullable=False))
    decided_on = fields.Date()
    decided_by = _shown_code(codes.INVESTIGATING_ENTITY, nullable=False)


class PaternityClaimOut(Schema):
    id = fields.UUID()
    person_id = _shown(fields.UUID)
    status = _shown_code(codes.PATERNITY_STATUS)
    filed_on = fields.Date()
    details = _shown(fields.String)


class AttachmentOut(Schema):
    """An evidence file's description; the file itself is downloaded on its own."""

    id = fields.UUID()
    uploaded_at = fields.DateTime(attribute="created_at")
    uploaded_by = _shown(fields.UUID)
    filename = fields.String()
    content_type = fields.String()
    byte_size = fields.Integer()
    description = _shown(fields.String)


class TransferOut(Schema):
    id = fields.UUID()
    from_mission = fields.String(data_key="from")
    to_mission = fields.String(data_key="to")
    at = fields.DateTime()
    by = _shown(fields.UUID, attribute="by_user_id")
    reason = fields.String()


class CaseOut(Schema):
    id = fields.UUID()
    reference = fields.String()
    version = fields.Integer()
    mission = fields.String(attribute="mission_code")
    received_on = fields.Date()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    source = _shown_code(codes.SOURCE)
    category = _shown_code(codes.CATEGORY)
    allegation_type = _shown_code(codes.ALLEGATION_TYPE)
    status = _shown_code(codes.STATUS)
    misconduct_class = _shown_code(codes.MISCONDUCT_CLASS)
    incident_date = _shown(fields.String, metadata={"description": "YYYY, YYYY-MM or YYYY-MM-DD"})
    narrative = _shown(fields.String)
    location = _shown(fields.String)
    notes = _shown(fields.String)
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


def _code(codes, **kwargs):
    return fields.String(validate=validate.OneOf(codes.codes), **{"allow_none": False, **kwargs})


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
            # No value in the message: the CSV import prints these messages.
            raise ValidationError(
                N_("not an allegation type of the category given"), "allegation_type"
            )


class CaseCreateSchema(CaseFieldsSchema):
    mission = fields.String(required=True, validate=validate.Length(min=2, max=16))
    received_on = fields.Date(required=True)

    @validates("received_on")
    def _not_in_future(self, value, **_):
        if value > date.today():
            raise ValidationError(N_("cannot be in the future"))


class PersonIn(Schema):
    """A person of a case: identities are sealed with the case's data key, codes plain."""

    role = _code(codes.PERSON_ROLE)
    full_name = fields.String(validate=validate.Length(max=300), allow_none=True)
    aliases = fields.String(validate=validate.Length(max=1000), allow_none=True)
    date_of_birth = fields.Date(allow_none=True)
    personnel_number = fields.String(validate=validate.Length(max=64), allow_none=True)
    national_id = fields.String(validate=validate.Length(max=64), allow_none=True)
    contact = fields.String(validate=validate.Length(max=1000), allow_none=True)
    sex = _code(codes.SEX, allow_none=True)
    age_group = _code(codes.AGE_GROUP, allow_none=True)
    personnel_category = _code(codes.PERSONNEL_CATEGORY, allow_none=True)
    nationality = fields.String(
        validate=validate.OneOf(codes.COUNTRIES, error=N_("not an ISO 3166 alpha-3 country code")),
        allow_none=True,
    )


class PersonCreate(PersonIn):
    role = _code(codes.PERSON_ROLE, required=True)


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
    status = _shown_code(codes.STATUS)
    category = _shown_code(codes.CATEGORY)
    allegation_type = _shown_code(codes.ALLEGATION_TYPE)
    source = _shown_code(codes.SOURCE)


class CaseListOut(Schema):
    """One page of a case list."""

    items = fields.List(fields.Nested(CaseListItem))
    total = fields.Integer(metadata={"description": "cases matching, on every page"})
    page = fields.Integer()
    per_page = fields.Integer()


class CaseTransferredOut(Schema):
    """A case after its transfer: its reference, new mission and version, and the transfer."""

    reference = fields.String()
    mission = fields.String(attribute="mission_code")
    version = fields.Integer()
    transfer = fields.Nested(TransferOut)


class TransitionIn(Schema):
    to = fields.String(required=True, validate=validate.OneOf(codes.STATUS.codes))
    reason = fields.String(load_default=None, validate=validate.Length(max=MAX_REASON_LENGTH))
    version = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1))


class TransitionOut(Schema):
    """A move along the workflow: the new history item, and the case's status and version."""

    transition = fields.Nested(StatusChangeOut)
    status = _shown_code(codes.STATUS, nullable=False)
    version = fields.Integer()


class OverdueOut(Schema):
    kind = fields.String(metadata={"enum": list(DEADLINE_KINDS)})
    due_on = fields.Date()
    days_overdue = fields.Integer()


class DeadlineOut(Schema):
    kind = fields.String(metadata={"enum": list(DEADLINE_KINDS)})
    due_on = fields.Date()


class DeadlinesOut(Schema):
    """A case's overdue items and next due dates: kinds and dates only."""

    reference = fields.String()
    today = fields.Date(metadata={"description": "the UTC date the answer was computed for"})
    overdue = fields.List(fields.Nested(OverdueOut))
    upcoming = fields.List(fields.Nested(DeadlineOut))


class ScreeningQuerySchema(Schema):
    """One identifier form: ``personnel_number``, or ``full_name`` with ``date_of_birth``.

    Types and lengths are checked here; which combination is allowed is the service's rule,
    so every caller gets the same answer.
    """

    personnel_number = fields.String(validate=validate.Length(min=1, max=64))
    full_name = fields.String(validate=validate.Length(min=1, max=300))
    date_of_birth = fields.Date()


class ScreeningOut(Schema):
    """Whether the person has a substantiated SEA record; nothing more."""

    match = fields.Boolean()


class OtherCasesOut(Schema):
    """Other cases of the user's scope where a subject appears: references only."""

    person_id = fields.UUID()
    other_cases = fields.List(fields.String(), metadata={"description": "case references"})

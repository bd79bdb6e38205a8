"""marshmallow schemas of the accounts API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from conduct.core.schemas import SortedList


class SessionCreateSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    otp = fields.String(load_default=None, validate=validate.Length(min=6, max=24))


class MfaConfirmSchema(Schema):
    otp = fields.String(required=True, validate=validate.Length(min=6, max=8))


class UserSummaryOut(Schema):
    """The logged-in account, as the session answers show it."""

    id = fields.UUID()
    email = fields.String()
    display_name = fields.String()
    roles = SortedList(fields.String())
    missions = SortedList(fields.String())


class SessionOut(Schema):
    """A completed login."""

    user = fields.Nested(UserSummaryOut)


class MfaSeedOut(Schema):
    secret = fields.String(metadata={"description": "the base32 seed of the second factor"})
    otpauth_uri = fields.String(metadata={"description": "the same seed as an otpauth:// URI"})


class MfaEnrollmentOut(Schema):
    """The right password of an account without a second factor: enrol it, then confirm."""

    mfa_enrollment = fields.Nested(MfaSeedOut)


class MfaConfirmedOut(Schema):
    """Enrolment confirmed and logged in; the recovery codes are shown only this once."""

    user = fields.Nested(UserSummaryOut)
    recovery_codes = fields.List(fields.String())

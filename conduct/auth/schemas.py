"""marshmallow schemas of the accounts API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class SessionCreateSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    otp = fields.String(load_default=None, validate=validate.Length(min=6, max=24))


class MfaConfirmSchema(Schema):
    otp = fields.String(required=True, validate=validate.Length(min=6, max=8))

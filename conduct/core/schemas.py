"""marshmallow schemas of the shared answers: the error shape and the health probes."""

from __future__ import annotations

from marshmallow import Schema, fields


class SortedList(fields.List):
    """A list dumped in sorted order, so sets (roles, missions) answer the same every time."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return super()._serialize(sorted(value), attr, obj, **kwargs)


class ErrorDetailOut(Schema):
    code = fields.String(metadata={"description": "a stable code, such as invalid or not_found"})
    message = fields.String(metadata={"description": "one readable line"})
    problems = fields.Dict(
        attribute="fields",
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "each bad field and its problems (empty when none)"},
    )


class ErrorOut(Schema):
    """The shape of every error answer of the API."""

    error = fields.Nested(ErrorDetailOut)


class HealthOut(Schema):
    status = fields.String(metadata={"example": "ok"})


class ReadinessChecksOut(Schema):
    database = fields.String(metadata={"description": "ok, unavailable or not_migrated"})
    keys = fields.String(metadata={"description": "ok or wrong"})


class ReadinessOut(Schema):
    status = fields.String(metadata={"description": "ready or not_ready"})
    checks = fields.Nested(ReadinessChecksOut)

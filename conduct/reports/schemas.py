"""The query of a report answer: ``by`` (one or two dimensions) and an optional ``year``."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate

from conduct.core.i18n import N_

from .tables import TABLES


class ReportQuery(Schema):
    """``by=mission,year`` or ``by=mission&by=year``; ``year=2025``. Nothing else."""

    by = fields.List(fields.String(validate=validate.Length(min=1, max=32)), required=True)
    year = fields.Integer(validate=validate.Range(min=1900, max=2200), allow_none=True)

    @pre_load
    def _split(self, data, **_):
        by = data.get("by")
        if isinstance(by, list):
            data = {**data, "by": [part for item in by for part in item.split(",") if part]}
        elif isinstance(by, str):
            data = {**data, "by": [part for part in by.split(",") if part]}
        if data.get("year") == "":
            data = {**data, "year": None}
        return data

    @post_load
    def _at_most_two(self, data, **_):
        if not data["by"] or len(data["by"]) > 2:
            raise ValidationError(N_("give one or two dimensions"), "by")
        data.setdefault("year", None)
        return data


def query_arguments(args) -> dict:
    """The request's query string as the schema's input (``by`` may repeat)."""
    data = {name: args.get(name) for name in args if name != "by"}
    if "by" in args:
        data["by"] = args.getlist("by")
    return data


class ReportPath(Schema):
    table = fields.String(
        required=True,
        validate=validate.OneOf(list(TABLES)),
        metadata={"description": "the statistics table"},
    )


class ReportOut(Schema):
    """One answer: a row per combination of the dimensions' values, and the total."""

    table = fields.String()
    by = fields.List(fields.String(), metadata={"description": "the dimensions asked for"})
    year = fields.Integer(allow_none=True, metadata={"description": "the year asked for"})
    threshold = fields.Integer(metadata={"description": "cells below it are suppressed"})
    rows = fields.List(
        fields.Dict(keys=fields.String()),
        metadata={
            "description": "each row: its dimension values, count (null when suppressed), "
            "suppressed; timeliness rows also carry their measures"
        },
    )
    total = fields.Integer(
        allow_none=True, metadata={"description": "units of the answer (null when suppressed)"}
    )

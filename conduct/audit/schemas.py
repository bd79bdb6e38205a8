"""marshmallow schemas of the auditor workspace: the filters it takes and what it answers.

Filters come from query strings (the API and the HTML filter form alike). An empty form field
means "no filter". Moments are ISO dates or datetimes; a datetime without a zone is UTC. A date
given as ``until`` means the whole of that day.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from conduct.core.i18n import N_

from .events import OUTCOMES, REFERENCE

ACTION = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
CURSOR = re.compile(r"^\d{1,20}-\d{1,20}$")
FLAG_KINDS = ("many_cases", "outside_missions", "denials", "unusual_hours", "exports")
# "+" in a query string arrives as a space when the client did not encode it.
_SPACED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


class Moment(fields.Field):
    """An ISO date or datetime, as an aware UTC datetime.

    ``end_of_day``: a bare date means the end of that day (the bound is then exclusive), so
    ``until=2026-11-28`` includes the whole of the 28th. A datetime bound is inclusive.
    """

    default_error_messages = {"invalid": N_("give an ISO date (2026-11-28) or datetime (UTC)")}

    def __init__(self, *, end_of_day: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.end_of_day = end_of_day

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        text = _SPACED_OFFSET.sub(r"\1+\2", value.strip())
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                start = datetime(day.year, day.month, day.day, tzinfo=UTC)
                return start + timedelta(days=1) if self.end_of_day else start
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise self.make_error("invalid") from None
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        # Inclusive datetime bounds become exclusive ones one microsecond later.
        return moment + timedelta(microseconds=1) if self.end_of_day else moment


CASE_HELP = N_("give a case reference (MINUSCA-2026-0007) or a case id")
ACTION_HELP = N_("give an action name such as case.read, or a prefix such as case.")


def _is_case(value: str) -> bool:
    if REFERENCE.match(value):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_action(value: str) -> bool:
    return bool(ACTION.match(value.removesuffix("*")))


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValidationError(message)


class _Query(Schema):
    """Query-string filters: blank form fields are left out before loading."""

    @pre_load
    def _drop_blanks(self, data, **kwargs):
        return {name: value for name, value in data.items() if str(value).strip() != ""}

    @validates_schema
    def _since_before_until(self, data, **kwargs):
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and since >= until:
            raise ValidationError(N_("must be after since"), "until")


class EventQuery(_Query):
    """Filters of the event list and its CSV export.

    ``actor`` is an account id or an email (resolved to the id by the service: the log holds
    ids only); ``case`` a case reference or id; ``action`` an action name, or a prefix ending
    in ``.`` or ``.*`` (``case.`` is every case action).
    """

    actor = fields.String(validate=validate.Length(max=254))
    case = fields.String(validate=lambda value: _check(_is_case(value), CASE_HELP))
    action = fields.String(validate=lambda value: _check(_is_action(value), ACTION_HELP))
    outcome = fields.String(validate=validate.OneOf(sorted(OUTCOMES)))
    since = Moment()
    until = Moment(end_of_day=True)
    cursor = fields.String(
        validate=validate.Regexp(CURSOR, error=N_("give back the next_cursor of the page before"))
    )
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class FlagQuery(_Query):
    """The period flags are computed over (default: the last days set in the settings)."""

    since = Moment()
    until = Moment(end_of_day=True)
    kind = fields.String(validate=validate.OneOf(FLAG_KINDS))


class CaseLookupQuery(_Query):
    """The case-reference form of the "who accessed this case" page."""

    reference = fields.String(
        required=True,
        validate=validate.Regexp(
            REFERENCE, error=N_("give a case reference like MINUSCA-2026-0007")
        ),
    )


def check_reference(reference: str) -> str:
    """A case reference from a URL path, or a 400 naming ``reference``."""
    if not REFERENCE.match(reference or ""):
        raise ValidationError({"reference": [N_("give a case reference like MINUSCA-2026-0007")]})
    return reference


def _nullable(field_class, description: str | None = None, **kwargs):
    metadata = {"description": description} if description else {}
    return field_class(allow_none=True, metadata=metadata, **kwargs)


class EventOut(Schema):
    """One audit event as the workspace shows it: ids and names, and the actor's email."""

    id = fields.Integer()
    occurred_at = fields.DateTime()
    action = fields.String()
    outcome = fields.String(metadata={"enum": sorted(OUTCOMES)})
    actor_id = _nullable(fields.UUID, "the acting account; null for the command line")
    actor_email = _nullable(fields.String, "the acting account's email, read now")
    actor_roles = fields.List(fields.String())
    object_type = _nullable(fields.String)
    object_id = _nullable(fields.String)
    case_id = _nullable(fields.UUID)
    case_reference = _nullable(fields.String)
    fields_ = fields.List(
        fields.String(),
        data_key="fields",
        attribute="fields",
        metadata={"description": "names of the fields read, changed or refused; never values"},
    )
    request_id = _nullable(fields.String)
    client_address = _nullable(fields.String)


class EventPageOut(Schema):
    """One page of the event list, newest first."""

    items = fields.List(fields.Nested(EventOut))
    per_page = fields.Integer()
    next_cursor = _nullable(
        fields.String, "send back as `cursor` for the next page; null on the last"
    )
    next = _nullable(fields.String, "the next page's URL")


class AccountAccessOut(Schema):
    actor_id = _nullable(fields.UUID, "the account; null for the command line")
    actor_email = _nullable(fields.String)
    first_at = fields.DateTime()
    last_at = fields.DateTime()
    events = fields.Integer()
    refused = fields.Integer(metadata={"description": "events with an outcome but success"})
    actions = fields.Dict(keys=fields.String(), values=fields.Integer())


class CaseAccessOut(Schema):
    """Who accessed one case: every account with events naming it, most recent first."""

    reference = fields.String()
    case_id = _nullable(fields.UUID, "null when no case has this reference")
    accounts = fields.List(fields.Nested(AccountAccessOut))


class FlagOut(Schema):
    """An unusual access: the account, the time range, the events behind it."""

    kind = fields.String(metadata={"enum": list(FLAG_KINDS)})
    actor_id = _nullable(fields.UUID, "the account; null for the command line")
    actor_email = _nullable(fields.String)
    first_at = fields.DateTime()
    last_at = fields.DateTime()
    event_count = fields.Integer()
    event_ids = fields.List(fields.Integer(), metadata={"description": "at most 500"})
    detail = fields.Dict(metadata={"description": "what the flag found; depends on the kind"})
    events_url = fields.String(metadata={"description": "the event list of exactly these events"})


class FlagReportOut(Schema):
    """The flags of a period, newest first."""

    since = fields.DateTime()
    until = _nullable(fields.DateTime, "exclusive end; null: up to now")
    flags = fields.List(fields.Nested(FlagOut))

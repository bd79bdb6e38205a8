"""Domain errors and their one mapping to HTTP.

Services raise these; one handler turns them into the JSON error shape of the brief
(``{"error": {"code", "message", "fields"}}``) for the API, or an error page for HTML. Before
answering, the handler rolls the request's transaction back and records the refusal, so a
failed change leaves nothing behind but its audit event.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext

from .schemas import ErrorOut


class ConductError(Exception):
    status = 400
    code = "bad_request"
    # How the refusal is audited when the status alone does not say it (see OutOfScope).
    audit_outcome: str | None = None
    audit_fields: tuple[str, ...] = ()

    def __init__(self, message: str, fields: Mapping[str, list[str]] | None = None, *, case=None):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        # The case the refusal concerns, kept as plain ids: auditors look for attempts on
        # cases outside a user's scope, and the request's objects are gone after rollback.
        self.case = None if case is None else CaseRef(case.id, case.reference)


@dataclass(frozen=True)
class CaseRef:
    id: uuid.UUID
    reference: str


class ValidationFailed(ConductError):
    """Input is wrong; ``fields`` names each field and its problems."""

    status = 400
    code = "invalid"

    @classmethod
    def of(cls, problems: Mapping[str, list[str]]) -> ValidationFailed:
        """The error for several fields at once, its message naming them."""
        names = ", ".join(sorted(problems))
        return cls(gettext("invalid input in: %(names)s", names=names), problems)


class NotAuthenticated(ConductError):
    status = 401
    code = "not_authenticated"


class Forbidden(ConductError):
    status = 403
    code = "forbidden"


class NotFound(ConductError):
    """Not found, or not in the user's scope: the two are indistinguishable on purpose."""

    status = 404
    code = "not_found"


class PayloadTooLarge(ConductError):
    """An upload is bigger than the configured limit; ``fields`` names the field."""

    status = 413
    code = "too_large"


class OutOfScope(NotFound):
    """A case outside the user's missions. The requester gets exactly the answer of a missing
    case; the audit log records a denial on the mission rule, with the case's ids, so auditors
    see attempts to reach other missions' cases."""

    audit_outcome = "denied"
    audit_fields = ("mission",)


class VersionConflict(ConductError):
    status = 409
    code = "version_conflict"


def error_body(code: str, message: str, fields: Mapping[str, list[str]] | None = None) -> dict:
    """The JSON of an error answer, dumped through the schema the API documents."""
    problems = {
        name: list(messages) if isinstance(messages, list | tuple) else [str(messages)]
        for name, messages in (fields or {}).items()
    }
    return ErrorOut().dump({"error": {"code": code, "message": message, "fields": problems}})

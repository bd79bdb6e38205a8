"""Paternity and child-support claims of a case.

A claim has a coded status (sealed with the statistics key), the date it was filed, optionally
the person of the case it concerns (the victim who claims, or the subject named as father), and
identifying details sealed with the case's key. Only the case team records and changes claims;
each change is an audit event naming the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext

from conduct.core.db import db, utcnow
from conduct.core.errors import ValidationFailed

from . import services
from .items import _audit, _item, _nothing_to_change
from .models import Case, PaternityClaim

CLAIM_FIELDS = ("status", "filed_on", "details")
CLAIM_ROLES = ("victim", "subject")


def _check_person(case: Case, person_id: Any) -> None:
    if person_id is None:
        return
    person = next((p for p in case.persons if str(p.id) == str(person_id)), None)
    if person is None:
        raise ValidationFailed.of({"person_id": [gettext("not a person of this case")]})
    if person.role not in CLAIM_ROLES:
        raise ValidationFailed.of(
            {"person_id": [gettext("a claim concerns a victim or a subject")]}
        )


def _set_claim(claim: PaternityClaim, case: Case, values: dict[str, Any]) -> list[str]:
    """Check and set a claim's fields; returns the names set."""
    if "person_id" in values:
        _check_person(case, values["person_id"])
        claim.person_id = values.pop("person_id")
        person_named = ["person_id"]
    else:
        person_named = []
    filed_on = values.get("filed_on")
    if filed_on is not None and filed_on > utcnow().date():
        raise ValidationFailed.of({"filed_on": [gettext("cannot be in the future")]})
    for name in ("status", "filed_on"):
        if name in values and values[name] is None:
            raise ValidationFailed.of({name: [gettext("cannot be removed")]})
    return sorted([*person_named, *services._assign(claim, values, CLAIM_FIELDS)])


def add_paternity_claim(actor, case: Case, fields: Mapping[str, Any]) -> PaternityClaim:
    """Record a paternity or child-support claim (team only); ``filed_on`` is required and
    ``status`` starts as ``claim_received`` unless given."""
    services.check_may_change(actor, case)
    values = {"status": "claim_received", **dict(fields)}
    if not values.get("filed_on"):
        raise ValidationFailed.of({"filed_on": [gettext("required")]})
    with db.session.no_autoflush:  # the new claim is flushed once whole, not half set
        claim = PaternityClaim(case=case)
        names = _set_claim(claim, case, values)
    db.session.add(claim)
    db.session.flush()
    _audit("paternity_claim.create", actor, claim, case, names)
    return claim


def update_paternity_claim(
    actor, case: Case, claim_id: Any, changes: Mapping[str, Any]
) -> PaternityClaim:
    """Record a claim's progress (status), or correct its person, date or details (team only)."""
    services.check_may_change(actor, case)
    _nothing_to_change(changes)
    claim = _item(case, PaternityClaim, claim_id, "paternity claim")
    names = _set_claim(claim, case, dict(changes))
    db.session.flush()
    _audit("paternity_claim.update", actor, claim, case, names)
    return claim

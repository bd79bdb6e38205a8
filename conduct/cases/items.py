"""Services for the items of a case: persons, referrals, findings and interim measures.

Each checks the case-team rule first (only the team changes a case), checks the item's own
rules, sets the fields, flushes and records an audit event naming the fields, never their
values. None of them commits: the request does, so a failed check leaves nothing stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import gettext

from conduct import codes
from conduct.audit import record
from conduct.core.db import db, utcnow
from conduct.core.errors import NotFound, ValidationFailed

from . import services
from .models import Case, Finding, InterimMeasure, Person, Referral

REFERRAL_FIELDS = (
    "entity",
    "purpose",
    "status",
    "consent",
    "referred_on",
    "due_on",
    "acknowledged_on",
    "details",
)
REFERRAL_CHANGES = ("entity", "status", "consent", "due_on", "acknowledged_on", "details")
FINDING_FIELDS = ("finding", "actions", "decided_on", "decided_by")
MEASURE_FIELDS = ("type", "started_on", "ended_on")


def _nothing_to_change(changes: Mapping[str, Any]) -> None:
    if not changes:
        raise ValidationFailed(
            gettext("nothing to change"), {"_schema": [gettext("give at least one field")]}
        )


def _item(case: Case, model, item_id: Any, what: str):
    """The item of this case with this id; 404 when absent or on another case."""
    try:
        key = item_id if isinstance(item_id, uuid.UUID) else uuid.UUID(str(item_id))
    except ValueError:
        raise NotFound(f"no such {what}", case=case) from None
    item = db.session.get(model, key)
    if item is None or item.case_id != case.id:
        raise NotFound(f"no such {what}", case=case)
    return item


def person_of(case: Case, person_id: Any) -> Person:
    """The person of this case with this id; 404 otherwise."""
    return _item(case, Person, person_id, "person")


def _audit(action: str, actor, item, case: Case, names) -> None:
    record(
        action,
        actor=actor,
        object_type=action.split(".", 1)[0],
        object_id=item.id,
        case=case,
        fields=sorted(names),
    )


# Persons


def add_person(actor, case: Case, fields: Mapping[str, Any]) -> Person:
    """Link a person to the case (team only); ``role`` is required."""
    services.check_may_change(actor, case)
    if not fields.get("role"):
        raise ValidationFailed.of({"role": [gettext("required")]})
    return services.add_person(actor, case, fields)


def update_person(actor, case: Case, person_id: Any, changes: Mapping[str, Any]) -> Person:
    """Change a person's fields (team only). A subject with a finding stays a subject."""
    services.check_may_change(actor, case)
    _nothing_to_change(changes)
    person = person_of(case, person_id)
    role = changes.get("role")
    if "role" in changes and role is None:
        raise ValidationFailed.of({"role": [gettext("cannot be removed")]})
    has_finding = any(finding.person_id == person.id for finding in case.findings)
    if role not in (None, "subject") and person.role == "subject" and has_finding:
        raise ValidationFailed.of({"role": [gettext("this subject has a finding")]})
    names = services._assign(person, changes, services.PERSON_FIELDS)
    db.session.flush()
    _audit("person.update", actor, person, case, names)
    return person


# Referrals


def _check_referral(referral: Referral, values: Mapping[str, Any]) -> None:
    """The rules of a referral as it will be after ``values``: a 400 naming each bad field."""

    def after(name):
        return values[name] if name in values else getattr(referral, name)

    problems: dict[str, list[str]] = {}
    purpose, entity, consent = after("purpose"), after("entity"), after("consent")
    referred_on = after("referred_on")
    if purpose == "investigation":
        if entity is not None and entity not in codes.INVESTIGATING_ENTITY.codes:
            problems["entity"] = [gettext("an investigation goes to an investigating entity")]
    elif purpose in codes.VICTIM_ASSISTANCE.codes:
        if entity is not None and entity not in codes.VICTIM_ASSISTANCE.codes:
            problems["entity"] = [gettext("victim assistance goes to a victim-assistance provider")]
        if consent == "override":
            reason = values.get("override_reason", referral.consent_override_reason)
            if not (reason or "").strip():
                problems["override_reason"] = [gettext("required when consent is override")]
        elif consent != "given":
            problems["consent"] = [
                gettext("victim assistance needs consent given, or override with override_reason")
            ]
    if values.get("override_reason") and after("consent") != "override":
        problems["override_reason"] = [gettext("only with consent override")]
    for name in ("due_on", "acknowledged_on"):
        value = after(name)
        if value is not None and referred_on is not None and value < referred_on:
            problems[name] = [gettext("cannot be before referred_on")]
    for name in ("referred_on", "acknowledged_on"):
        value = values.get(name)
        if isinstance(value, date) and value > utcnow().date():
            problems[name] = [gettext("cannot be in the future")]
    if problems:
        raise ValidationFailed.of(problems)


def _set_referral(actor, case: Case, referral: Referral, values: dict[str, Any], allowed):
    """Check and set a referral's fields; records the consent override event. Returns names."""
    _check_referral(referral, values)
    if "override_reason" in values:
        reason = (values.pop("override_reason") or "").strip()
        values["consent_override_reason"] = reason or None
    overridden = values.get("consent") == "override"
    if (
        values.get("acknowledged_on") is not None
        and "status" not in values
        and referral.status == "sent"
    ):
        values["status"] = "acknowledged"
    names = services._assign(referral, values, (*allowed, "consent_override_reason"))
    db.session.add(referral)
    db.session.flush()
    if overridden:
        _audit(
            "referral.consent_override",
            actor,
            referral,
            case,
            ["consent", "consent_override_reason"],
        )
    return names


def add_referral(actor, case: Case, fields: Mapping[str, Any]) -> Referral:
    """Refer the case to an investigating entity or a victim-assistance provider (team only).

    Victim assistance needs ``consent`` given, or ``override`` with an ``override_reason``; the
    override is its own audit event, and the reason is sealed in its own column.
    """
    services.check_may_change(actor, case)
    values = {"status": "sent", **dict(fields)}
    missing = [name for name in ("entity", "purpose", "referred_on") if not values.get(name)]
    if missing:
        raise ValidationFailed.of({name: [gettext("required")] for name in missing})
    referral = Referral(case=case)
    names = _set_referral(actor, case, referral, values, REFERRAL_FIELDS)
    _audit("referral.create", actor, referral, case, names)
    return referral


def update_referral(actor, case: Case, referral_id: Any, changes: Mapping[str, Any]) -> Referral:
    """Record an acknowledgement, a new status, consent or details on a referral (team only)."""
    services.check_may_change(actor, case)
    _nothing_to_change(changes)
    referral = _item(case, Referral, referral_id, "referral")
    names = _set_referral(actor, case, referral, dict(changes), REFERRAL_CHANGES)
    _audit("referral.update", actor, referral, case, names)
    return referral


# Findings and measures


def _subject_of(case: Case, person_id: Any, *, required: bool) -> Person | None:
    if person_id is None:
        if required:
            raise ValidationFailed.of({"person_id": [gettext("required")]})
        return None
    person = next((p for p in case.persons if str(p.id) == str(person_id)), None)
    if person is None:
        raise ValidationFailed.of({"person_id": [gettext("not a person of this case")]})
    if person.role != "subject":
        raise ValidationFailed.of({"person_id": [gettext("not a subject of this case")]})
    return person


def add_finding(actor, case: Case, fields: Mapping[str, Any]) -> Finding:
    """Record the finding on one subject of the case and the actions taken (team only)."""
    services.check_may_change(actor, case)
    values = dict(fields)
    person = _subject_of(case, values.pop("person_id", None), required=True)
    if any(finding.person_id == person.id for finding in case.findings):
        raise ValidationFailed.of({"person_id": [gettext("this subject already has a finding")]})
    missing = [name for name in ("finding", "decided_on", "decided_by") if not values.get(name)]
    if missing:
        raise ValidationFailed.of({name: [gettext("required")] for name in missing})
    if values["decided_on"] > utcnow().date():
        raise ValidationFailed.of({"decided_on": [gettext("cannot be in the future")]})
    values.setdefault("actions", [])
    finding = Finding(case=case, person_id=person.id)
    names = services._assign(finding, values, FINDING_FIELDS)
    db.session.add(finding)
    db.session.flush()
    _audit("finding.create", actor, finding, case, ["person_id", *names])
    return finding


def add_measure(actor, case: Case, fields: Mapping[str, Any]) -> InterimMeasure:
    """Record an interim measure, on a subject of the case when ``person_id`` is given."""
    services.check_may_change(actor, case)
    values = dict(fields)
    person = _subject_of(case, values.pop("person_id", None), required=False)
    missing = [name for name in ("type", "started_on") if not values.get(name)]
    if missing:
        raise ValidationFailed.of({name: [gettext("required")] for name in missing})
    ended_on = values.get("ended_on")
    if ended_on is not None and ended_on < values["started_on"]:
        raise ValidationFailed.of({"ended_on": [gettext("cannot be before started_on")]})
    measure = InterimMeasure(case=case, person_id=person.id if person else None)
    names = services._assign(measure, values, MEASURE_FIELDS)
    db.session.add(measure)
    db.session.flush()
    _audit(
        "measure.create",
        actor,
        measure,
        case,
        [*(["person_id"] if person else []), *names],
    )
    return measure


def update_finding(actor, case: Case, finding_id: Any, changes: Mapping[str, Any]) -> Finding:
    """Correct a finding, its actions, date or deciding entity (team only)."""
    services.check_may_change(actor, case)
    _nothing_to_change(changes)
    finding = _item(case, Finding, finding_id, "finding")
    decided_on = changes.get("decided_on")
    if decided_on is not None and decided_on > utcnow().date():
        raise ValidationFailed.of({"decided_on": [gettext("cannot be in the future")]})
    names = services._assign(finding, changes, FINDING_FIELDS)
    db.session.flush()
    _audit("finding.update", actor, finding, case, names)
    return finding


def update_measure(
    actor, case: Case, measure_id: Any, changes: Mapping[str, Any]
) -> InterimMeasure:
    """Record the end of an interim measure, or correct its type or start (team only)."""
    services.check_may_change(actor, case)
    _nothing_to_change(changes)
    measure = _item(case, InterimMeasure, measure_id, "measure")
    started_on = changes.get("started_on", measure.started_on)
    ended_on = changes.get("ended_on", measure.ended_on)
    if ended_on is not None and started_on is not None and ended_on < started_on:
        raise ValidationFailed.of({"ended_on": [gettext("cannot be before started_on")]})
    names = services._assign(measure, changes, MEASURE_FIELDS)
    db.session.flush()
    _audit("measure.update", actor, measure, case, names)
    return measure

"""Victim assistance shared without consent: the override reason in its own sealed column."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import select
from sqlalchemy.orm import Session

from conduct.audit.models import AuditEvent
from conduct.cases import services
from conduct.cases.models import CaseTeamMember, Referral
from conduct.core.db import db, unit_of_work
from conduct.crypto import ShreddedError, open_vault
from conduct.crypto.columns import open_identifying_value
from tests.crypto.test_raw_database import _raw_postgres_cells, _raw_sqlite_bytes
from tests.factories import make_case, make_person

MEDICAL = {"entity": "medical", "purpose": "medical", "referred_on": "2026-03-05"}


@pytest.fixture
def officer(app, user_factory, api_login):
    user_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    client = app.test_client()
    assert api_login(client, user_id).status_code == 200
    client.user_id = user_id
    return client


@pytest.fixture
def reference(app, officer):
    with app.app_context(), unit_of_work():
        case = make_case()
        case.team.append(CaseTeamMember(user_id=officer.user_id))
        make_person(case)
        return case.reference


def _events(app, action):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_consent_given_then_overridden_by_patch_needs_a_reason(app, officer, reference):
    created = officer.post(
        f"/api/v1/cases/{reference}/referrals", json={**MEDICAL, "consent": "given"}
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["override_reason"] is None
    url = f"/api/v1/cases/{reference}/referrals/{created.get_json()['id']}"

    refused = officer.patch(url, json={"consent": "override"})
    assert refused.status_code == 400
    assert "override_reason" in refused.get_json()["error"]["fields"]
    assert officer.patch(url, json={"override_reason": "too early"}).status_code == 400

    changed = officer.patch(url, json={"consent": "override", "override_reason": "Urgent care"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["override_reason"] == "Urgent care"
    assert changed.get_json()["details"] is None
    [override] = _events(app, "referral.consent_override")
    assert override.fields == "consent,consent_override_reason"


def test_the_reason_is_corrected_but_never_blanked(app, officer, reference):
    body = {**MEDICAL, "consent": "override", "override_reason": "First reason"}
    created = officer.post(f"/api/v1/cases/{reference}/referrals", json=body)
    url = f"/api/v1/cases/{reference}/referrals/{created.get_json()['id']}"

    blank = officer.patch(url, json={"override_reason": "   "})
    assert "override_reason" in blank.get_json()["error"]["fields"]
    corrected = officer.patch(url, json={"override_reason": "Second reason"})
    assert corrected.get_json()["override_reason"] == "Second reason"
    update = _events(app, "referral.update")[-1]
    assert update.fields == "consent_override_reason"
    acknowledged = officer.patch(url, json={"acknowledged_on": "2026-03-06"})
    assert acknowledged.status_code == 200, acknowledged.get_json()
    assert acknowledged.get_json()["override_reason"] == "Second reason"


def test_officers_off_the_team_do_not_see_the_reason(
    app, officer, reference, user_factory, api_login
):
    body = {**MEDICAL, "consent": "override", "override_reason": "Team-only reason"}
    assert officer.post(f"/api/v1/cases/{reference}/referrals", json=body).status_code == 201
    other_id, _ = user_factory(roles=("officer",), missions=("MINUSCA",))
    other = app.test_client()
    assert api_login(other, other_id).status_code == 200
    [referral] = other.get(f"/api/v1/cases/{reference}").get_json()["referrals"]
    assert referral["consent"] == "override"
    assert "override_reason" not in referral and "details" not in referral
    [team_view] = officer.get(f"/api/v1/cases/{reference}").get_json()["referrals"]
    assert team_view["override_reason"] == "Team-only reason"
    read = _events(app, "case.read")[-1]
    assert "referrals.override_reason" in read.fields.split(",")


def test_the_reason_is_sealed_in_the_raw_database(work, database_url):
    canary = f"CANARY-{uuid.uuid4().hex}"
    with work():
        case = make_case()
        referral = Referral(
            case=case,
            entity="medical",
            purpose="medical",
            status="sent",
            consent="override",
            referred_on=date(2026, 3, 5),
            consent_override_reason=canary,
        )
        db.session.add(referral)
    with work():
        stored = db.session.scalars(select(Referral)).one()
        assert stored.consent_override_reason == canary
        raw = (
            _raw_sqlite_bytes(database_url)
            if database_url.startswith("sqlite")
            else _raw_postgres_cells()
        )
    assert canary.encode() not in raw


# The revision that moved the reasons out of the details


def _open(session, vault, row, column):
    token = getattr(row, column)
    return open_identifying_value(vault, session, "referrals", column, token, row.id, row.case_id)


def _raw_referrals():
    """Each referral's (details, reason) as stored, opened below the models; None for a
    referral whose case was shredded, and no reason before the column exists."""
    from sqlalchemy import inspect

    from conduct.crypto import ShreddedError

    columns = {column["name"] for column in inspect(db.engine).get_columns("referrals")}
    names = ["id", "case_id", "details"]
    if "consent_override_reason" in columns:
        names.append("consent_override_reason")
    # The table as the revisions before 0006 shape it (a sealed column per field).
    table = sa.table("referrals", *(sa.column(name) for name in names[2:]))
    table.append_column(sa.column("id", sa.Uuid()))
    table.append_column(sa.column("case_id", sa.Uuid()))
    wanted = [table.c[name] for name in names]
    opened = {}
    with db.engine.connect() as connection, open_vault() as vault:
        session = Session(bind=connection)
        for row in connection.execute(select(*wanted)):
            try:
                details = _open(session, vault, row, "details")
                reason = (
                    _open(session, vault, row, "consent_override_reason") if len(row) > 3 else ()
                )
            except ShreddedError:
                details = reason = None
            opened[row.id] = (details, reason)
        session.close()
    return opened


def _referral(case, consent, reason, details):
    return Referral(
        case=case,
        entity="medical",
        purpose="medical",
        status="sent",
        consent=consent,
        referred_on=date(2026, 3, 5),
        consent_override_reason=reason,
        details=details,
    )


def test_the_revision_moves_reasons_between_details_and_their_column(migrated_app):
    with unit_of_work():
        case = make_case()
        shredded = make_case()
        rows = {
            "override": _referral(case, "override", "Risk to life", "Clinic B"),
            "bare": _referral(case, "override", "Urgent", None),
            "given": _referral(case, "given", None, "Clinic C"),
            "lost": _referral(shredded, "given", None, "Clinic D"),
        }
        db.session.add_all(rows.values())
        ids = {name: row.id for name, row in rows.items()}
        shredded_reference = shredded.reference
    with unit_of_work():
        services.shred_case(None, services.case_by_reference(shredded_reference))

    downgrade(revision="0002")
    old = _raw_referrals()
    assert old[ids["override"]] == ("Consent override reason: Risk to life\n\nClinic B", ())
    assert old[ids["bare"]] == ("Consent override reason: Urgent", ())
    assert old[ids["given"]] == ("Clinic C", ())
    assert old[ids["lost"]] == (None, None)

    upgrade(revision="0003")
    assert _raw_referrals() == {
        ids["override"]: ("Clinic B", "Risk to life"),
        ids["bare"]: (None, "Urgent"),
        ids["given"]: ("Clinic C", None),
        ids["lost"]: (None, None),
    }
    upgrade()  # the later revisions carry the moved values on
    with unit_of_work():
        opened = {}
        for name in ("override", "bare", "given"):
            stored = db.session.get(Referral, ids[name])
            opened[name] = (stored.details, stored.consent_override_reason)
        assert opened == {
            "override": ("Clinic B", "Risk to life"),
            "bare": (None, "Urgent"),
            "given": ("Clinic C", None),
        }
        assert db.session.get(Referral, ids["override"]).consent == "override"
        with pytest.raises(ShreddedError):
            _ = db.session.get(Referral, ids["lost"]).details

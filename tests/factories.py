"""Factories for tests: callables that build real rows through the real services."""

from __future__ import annotations

from datetime import date

from conduct.auth import login
from conduct.cases import services


def make_case(actor=None, mission="MINUSCA", received_on=date(2026, 3, 2), **fields):
    """Open a case through the service (reference, data key, audit event and all)."""
    values = {
        "narrative": "Report received through the community network.",
        "category": "sexual_abuse",
        "allegation_type": "sexual_assault",
        "source": "community_based_complaint_network",
        **fields,
    }
    return services.open_case(actor, mission, received_on, values)


def make_person(case, actor=None, **fields):
    values = {"role": "victim", "full_name": "Awa Traoré", "sex": "female", **fields}
    return services.add_person(actor, case, values)


PASSWORD = "amber-quarry-lantern-47"


def make_user(
    roles=("officer",), missions=("MINUSCA",), email=None, password=PASSWORD, enrolled=True
):
    """An account through the real service; with ``enrolled`` its second factor is confirmed.

    Returns the user; its TOTP seed is ``totp_secret_of(user)``.
    """
    import uuid

    from conduct.auth import services as accounts
    from conduct.auth import totp
    from conduct.core.db import utcnow
    from conduct.crypto.accounts import seal_account_secret

    email = email or f"{'-'.join(sorted(roles))}-{uuid.uuid4().hex[:8]}@conduct.test"
    user = accounts.create_user(
        None, email, "Test " + roles[0].title(), roles, missions, password=password
    )
    if enrolled:
        user.totp_secret_sealed = seal_account_secret(user.id, "totp_secret", totp.new_secret())
        user.mfa_confirmed_at = utcnow()
    return user


def fresh_code(user) -> str:
    """A code for the current time step, as if the account's last code were a minute old.

    Tests log the same account in several times within one 30-second step; moving the last
    accepted step back stands in for waiting. The replay rule itself is tested on its own.
    """
    import pyotp

    from conduct.auth import totp

    step = totp.current_step()
    if user.last_totp_step is not None and user.last_totp_step >= step:
        user.last_totp_step = step - 2
    return pyotp.TOTP(login.totp_secret_of(user)).generate_otp(step)


def api_login(client, user_id, password=PASSWORD):
    """Log ``client`` in through the API with the password and a fresh code (needs an app
    context); returns the answer."""
    from conduct.auth.models import User
    from conduct.core.db import db, unit_of_work

    with unit_of_work():
        user = db.session.get(User, user_id)
        email, code = user.email, fresh_code(user)
    return client.post("/api/v1/session", json={"email": email, "password": password, "otp": code})

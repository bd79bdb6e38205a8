from __future__ import annotations

import pytest

from conduct.core.db import db
from tests.factories import PASSWORD, fresh_code, make_user


@pytest.fixture
def user_factory(app):
    """Make a committed account: ``user_factory(roles=..., missions=..., enrolled=...)``."""
    from conduct.core.db import unit_of_work

    def build(**kwargs):
        with app.app_context(), unit_of_work():
            user = make_user(**kwargs)
            return user.id, user.email

    return build


@pytest.fixture
def api_login(app):
    """Log a test client in through the API with password and a fresh code."""
    from conduct.auth.models import User
    from conduct.core.db import unit_of_work

    def login(client, user_id, password=PASSWORD):
        with app.app_context(), unit_of_work():
            user = db.session.get(User, user_id)
            email, code = user.email, fresh_code(user)
        return client.post(
            "/api/v1/session", json={"email": email, "password": password, "otp": code}
        )

    return login

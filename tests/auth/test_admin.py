"""Administration pages: accounts and missions, through the forms a browser would post."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from conduct.audit.models import AuditEvent
from conduct.auth.models import User
from conduct.core.db import db, unit_of_work, utcnow
from conduct.core.missions import Mission
from tests.factories import PASSWORD

NEW_PASSWORD = "saffron-glacier-mandolin-62"
TOKEN = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')


def _token(client, path="/account/password") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return TOKEN.search(page.data).group(1).decode()


def _post(client, path, **data):
    return client.post(path, data={"csrf_token": _token(client), **data})


def _events(app, action=None, actor=None) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        if actor is not None:
            query = query.where(AuditEvent.actor_id == actor)
        return list(db.session.scalars(query))


def _assert_no_values(app, *values: str) -> None:
    """No audit event holds any of ``values`` in any column."""
    stored = " ".join(str(value) for event in _events(app) for value in vars(event).values())
    for value in values:
        assert value.lower() not in stored.lower(), f"an audit event holds {value!r}"


def _user(app, user_id) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def admin(app, user_factory, api_login):
    """A logged-in administrator: ``admin.client`` and ``admin.id``."""
    admin_id, email = user_factory(roles=("admin",), missions=())
    client = app.test_client()
    assert api_login(client, admin_id).status_code == 200
    return SimpleNamespace(client=client, id=admin_id, email=email)


@pytest.fixture
def officer(app, user_factory, api_login):
    """A logged-in officer of MINUSCA: ``officer.client``, ``officer.id``, ``officer.email``."""
    officer_id, email = user_factory(roles=("officer",), missions=("MINUSCA",))
    client = app.test_client()
    assert api_login(client, officer_id).status_code == 200
    assert client.get("/").status_code == 200
    return SimpleNamespace(client=client, id=officer_id, email=email)


def _new_account(**changes) -> dict:
    form = {
        "email": "Nadia.Kone@Conduct.test",
        "display_name": "Nadia Koné",
        "roles": ["officer"],
        "missions": ["MINUSCA", "UNMISS"],
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
    }
    form.update(changes)
    return form


def test_an_admin_creates_an_account_through_the_form(app, admin):
    assert b'type="checkbox"' in admin.client.get("/admin/users/new").data
    response = _post(admin.client, "/admin/users/new", **_new_account())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/users")
    listing = admin.client.get("/admin/users")
    assert b"nadia.kone@conduct.test" in listing.data and b"Account created" in listing.data
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "nadia.kone@conduct.test")).one()
        assert (user.display_name, user.roles) == ("Nadia Koné", {"officer"})
        assert user.missions == {"MINUSCA", "UNMISS"} and not user.has_mfa
    first_login = app.test_client().post(
        "/api/v1/session", json={"email": "nadia.kone@conduct.test", "password": NEW_PASSWORD}
    )
    assert "mfa_enrollment" in first_login.get_json()
    [event] = _events(app, "user.create", actor=admin.id)
    assert event.object_id == str(user.id)
    assert event.fields == "display_name,email,missions,password,roles"
    _assert_no_values(app, "nadia.kone", "Nadia Koné", NEW_PASSWORD)


BAD_ACCOUNTS = {
    "email": {"email": "not-an-email"},
    "display_name": {"display_name": "  "},
    "roles": {"roles": []},
    "missions": {"missions": ["ATLANTIS"]},
    "password": {"password": "password1234", "password_confirm": "password1234"},
    "password_confirm": {"password_confirm": "something-else-entirely-88"},
}


@pytest.mark.parametrize("field", sorted(BAD_ACCOUNTS))
def test_bad_input_answers_400_names_the_field_and_stores_nothing(app, admin, field):
    before = _count(app, User)
    response = _post(admin.client, "/admin/users/new", **_new_account(**BAD_ACCOUNTS[field]))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and "Nothing was saved" in page
    assert _count(app, User) == before
    assert not _events(app, "user.create", actor=admin.id)
    [refusal] = _events(app, "request.refused")
    assert (refusal.outcome, refusal.fields) == ("invalid", field)
    assert refusal.object_id == "admin.create_user"


def test_an_email_in_use_is_refused(app, admin):
    response = _post(admin.client, "/admin/users/new", **_new_account(email=admin.email.upper()))
    assert response.status_code == 400
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert "an account with this email exists" in response.get_data(as_text=True)


def test_an_admin_edits_roles_missions_name_and_password(app, admin, officer):
    page = admin.client.get(f"/admin/users/{officer.id}")
    assert page.status_code == 200 and officer.email.encode() in page.data
    response = _post(
        admin.client,
        f"/admin/users/{officer.id}",
        display_name="Moussa Diallo",
        roles=["officer", "vetting"],
        missions=["MONUSCO"],
        password=NEW_PASSWORD,
        password_confirm=NEW_PASSWORD,
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/users/{officer.id}")
    user = _user(app, officer.id)
    assert user.display_name == "Moussa Diallo" and user.roles == {"officer", "vetting"}
    assert user.missions == {"MONUSCO"}
    # A password set by someone else ends the owner's sessions.
    assert officer.client.get("/").status_code == 302
    [event] = _events(app, "user.update")
    assert event.fields == "display_name,missions,password,roles"
    assert [e.object_id for e in _events(app, "user.view")] == [str(officer.id)]
    _assert_no_values(app, "Moussa", NEW_PASSWORD, officer.email)


def test_a_bad_edit_keeps_the_account_as_it_was(app, admin, officer):
    response = _post(
        admin.client,
        f"/admin/users/{officer.id}",
        display_name="Changed Name",
        roles=[],
        missions=["MINUSCA"],
    )
    assert response.status_code == 400
    assert 'id="roles-error"' in response.get_data(as_text=True)
    user = _user(app, officer.id)
    assert user.display_name == "Test Officer" and user.roles == {"officer"}
    assert not _events(app, "user.update")


def test_disabling_ends_the_users_sessions(app, admin, officer, api_login):
    response = _post(admin.client, f"/admin/users/{officer.id}/disable")
    assert response.status_code == 302
    assert officer.client.get("/").status_code == 302
    assert api_login(app.test_client(), officer.id).status_code == 401
    assert b"Account disabled" in admin.client.get(response.headers["Location"]).data
    assert _post(admin.client, f"/admin/users/{officer.id}/enable").status_code == 302
    assert api_login(app.test_client(), officer.id).status_code == 200
    assert [e.object_id for e in _events(app, "user.disable")] == [str(officer.id)]
    assert [e.actor_id for e in _events(app, "user.enable")] == [admin.id]
    _assert_no_values(app, officer.email)


def test_an_admin_cannot_disable_their_own_account(app, admin):
    response = _post(admin.client, f"/admin/users/{admin.id}/disable")
    assert response.status_code == 400
    assert _user(app, admin.id).active
    assert admin.client.get("/admin/users").status_code == 200


def test_reset_mfa_makes_the_user_enrol_again(app, admin, officer):
    assert _post(admin.client, f"/admin/users/{officer.id}/reset-mfa").status_code == 302
    assert officer.client.get("/").status_code == 302
    answer = app.test_client().post(
        "/api/v1/session", json={"email": officer.email, "password": PASSWORD}
    )
    assert answer.status_code == 200 and "mfa_enrollment" in answer.get_json()
    [event] = _events(app, "mfa.reset")
    assert (event.actor_id, event.object_id) == (admin.id, str(officer.id))


def test_unlock_clears_a_lockout(app, admin, officer):
    with app.app_context(), unit_of_work():
        user = db.session.get(User, officer.id)
        user.failed_logins, user.locked_until = 5, utcnow() + timedelta(minutes=10)
    page = admin.client.get(f"/admin/users/{officer.id}").get_data(as_text=True)
    assert f"/admin/users/{officer.id}/unlock" in page
    assert _post(admin.client, f"/admin/users/{officer.id}/unlock").status_code == 302
    user = _user(app, officer.id)
    assert user.locked_until is None and user.failed_logins == 0
    assert [e.object_id for e in _events(app, "user.unlock")] == [str(officer.id)]


def test_the_account_list_shows_each_accounts_state(app, admin, user_factory):
    user_factory(roles=("auditor",), missions=(), enrolled=False)
    page = admin.client.get("/admin/users").get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows[1:]]
    auditor = next(row for row in cells if row[2] == "Auditor")
    assert auditor[3:8] == ["none", "yes", "no", "no", "never"]
    me = next(row for row in cells if admin.email in row[0])
    assert me[5] == "yes" and me[7].endswith("UTC")
    assert _events(app, "user.list")


ADMIN_ROUTES = [
    ("GET", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("POST", "/admin/users/new"),
    ("GET", "/admin/users/{id}"),
    ("POST", "/admin/users/{id}/disable"),
    ("POST", "/admin/users/{id}/reset-mfa"),
    ("GET", "/admin/missions"),
    ("POST", "/admin/missions"),
    ("POST", "/admin/missions/UNDOF/close"),
]


@pytest.mark.parametrize("role", ["officer", "leadership", "auditor", "vetting"])
def test_others_get_403_and_change_nothing(app, user_factory, api_login, role):
    user_id, _ = user_factory(roles=(role,), missions=())
    client = app.test_client()
    assert api_login(client, user_id).status_code == 200
    token = _token(client)
    for method, path in ADMIN_ROUTES:
        url = path.format(id=user_id)
        data = {"csrf_token": token, **_new_account(code="UNSOM", name="Somalia")}
        response = client.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == 403, (method, url)
    assert _user(app, user_id).active and _user(app, user_id).has_mfa
    with app.app_context():
        assert db.session.get(Mission, "UNDOF").active
        assert db.session.get(Mission, "UNSOM") is None
    assert len(_events(app, "request.refused")) == len(ADMIN_ROUTES)


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_missions_are_added_closed_and_reopened(app, admin):
    page = admin.client.get("/admin/missions")
    assert page.status_code == 200 and b"MINUSCA" in page.data
    name = "UN Assistance Mission in Somalia"
    response = _post(admin.client, "/admin/missions", code="unsom", name=name)
    assert response.status_code == 302
    assert b"UNSOM" in admin.client.get("/admin/missions").data
    assert _post(admin.client, "/admin/missions/UNSOM/close").status_code == 302
    with app.app_context():
        assert db.session.get(Mission, "UNSOM").active is False
    assert _post(admin.client, "/admin/missions/UNSOM/reopen").status_code == 302
    with app.app_context():
        mission = db.session.get(Mission, "UNSOM")
        assert (mission.name, mission.active) == (name, True)
    [created] = _events(app, "mission.create")
    assert (created.object_id, created.fields, created.actor_id) == (
        "UNSOM",
        "active,code,name",
        admin.id,
    )
    assert [e.fields for e in _events(app, "mission.update")] == ["active", "active"]
    _assert_no_values(app, name)


@pytest.mark.parametrize(
    ("field", "code", "name"),
    [
        ("code", "UN-1", "A mission"),
        ("code", "U", "A mission"),
        ("code", "MINUSCA", "A second MINUSCA"),
        ("code", "", "A mission"),
        ("name", "UNSOM", ""),
    ],
)
def test_a_bad_mission_answers_400_and_stores_nothing(app, admin, field, code, name):
    before = _count(app, Mission)
    response = _post(admin.client, "/admin/missions", code=code, name=name)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert _count(app, Mission) == before
    assert not _events(app, "mission.create")


def test_an_unknown_mission_or_account_is_404(admin):
    assert _post(admin.client, "/admin/missions/NOWHERE/close").status_code == 404
    assert admin.client.get("/admin/users/not-an-id").status_code == 404

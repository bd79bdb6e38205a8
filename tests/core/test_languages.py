"""Pages in the account's language, else the login page's choice, else the browser's; the JSON
API in English whatever the choice."""

from __future__ import annotations

import io
from datetime import date

import pytest

from conduct.auth.models import User
from conduct.cases import attachments
from conduct.core.db import db, unit_of_work
from conduct.core.i18n import COOKIE_NAME
from tests.cases.pages import TOKEN, events, login, make_team, post, text
from tests.cases.pages import token as token_of
from tests.factories import PASSWORD, make_case


def set_locale(app, user_id, locale):
    with app.app_context(), unit_of_work():
        db.session.get(User, user_id).locale = locale


def stored_locale(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id).locale


def switch(client, locale, page="/login", next_page=None):
    form = {"locale": locale, "next": next_page or page}
    return post(client, "/language", form, token_from=page)


@pytest.fixture
def team(app, user_factory, api_login):
    return make_team(app, user_factory, api_login)


@pytest.fixture
def logged_in(app, user_factory, api_login):
    """A logged-in client for an account with the given roles, its language set."""

    def build(roles, locale="fr", missions=()):
        user_id, _ = user_factory(roles=roles, missions=missions)
        set_locale(app, user_id, locale)
        return login(app, api_login, user_id)

    return build


@pytest.mark.parametrize(
    ("accept", "expected", "heading"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.5", "fr", "Se connecter"),
        ("fr-CD", "fr", "Se connecter"),
        ("en-GB,en;q=0.8", "en", "Log in"),
        ("de-DE", "en", "Log in"),
        (None, "en", "Log in"),
    ],
)
def test_the_login_page_follows_the_browser(client, accept, expected, heading):
    headers = {"Accept-Language": accept} if accept else {}
    page = text(client.get("/login", headers=headers))
    assert f'<html lang="{expected}">' in page
    assert f"<h1>{heading}</h1>" in page


def test_the_login_page_switches_language_before_login(client):
    answer = switch(client, "fr")
    assert answer.status_code == 302 and answer.headers["Location"] == "/login"
    assert f"{COOKIE_NAME}=fr" in answer.headers["Set-Cookie"]
    page = text(client.get("/login", headers={"Accept-Language": "en"}))
    assert "<h1>Se connecter</h1>" in page and "Adresse électronique" in page
    assert "Chaque connexion et chaque accès à une affaire sont enregistrés." in page
    # The switch offers the other language, and works back.
    assert 'value="en"' in page and ">English<" in page
    switch(client, "en")
    assert "<h1>Log in</h1>" in text(client.get("/login"))


def test_a_failed_login_says_so_in_french(client):
    token = TOKEN.search(text(client.get("/login", headers={"Accept-Language": "fr"}))).group(1)
    form = {"csrf_token": token, "email": "nobody@conduct.test", "password": "x" * 12}
    page = text(client.post("/login", data=form, headers={"Accept-Language": "fr"}))
    assert "Échec de la connexion" in page


def test_an_unknown_language_is_refused(client):
    assert switch(client, "xx").status_code == 400
    assert switch(client, "fr", next_page="https://elsewhere.test/").headers["Location"] == "/"


def test_the_switch_needs_its_token(client):
    answer = client.post("/language", data={"locale": "fr", "next": "/login"})
    assert answer.status_code == 400 and COOKIE_NAME not in answer.headers.get("Set-Cookie", "")


def test_the_switch_persists_on_the_account(app, team):
    assert stored_locale(app, team.id) is None
    answer = switch(team.client, "fr", page="/cases", next_page="/cases?status=received")
    assert answer.headers["Location"] == "/cases?status=received"
    assert stored_locale(app, team.id) == "fr"
    assert [event.fields for event in events(app, "user.locale")] == ["locale"]
    # The account's choice wins over the browser's and over the cookie.
    team.client.delete_cookie(COOKIE_NAME)
    page = text(team.client.get("/cases", headers={"Accept-Language": "en"}))
    assert "<h1>Affaires</h1>" in page


def test_case_list_and_case_page_in_french(app, team):
    set_locale(app, team.id, "fr")
    listing = text(team.client.get("/cases"))
    assert '<html lang="fr">' in listing and "<h1>Affaires</h1>" in listing
    assert "1 affaire, les plus récentes d’abord." in listing
    assert "<td>Reçue</td>" in listing and "<td>Atteinte sexuelle</td>" in listing
    assert "<td>2 mars 2026</td>" in listing
    assert "Mes échéances dépassées" in listing and "Se déconnecter" in listing
    page = text(team.client.get(f"/cases/{team.reference}"))
    assert "reçue le 2 mars 2026" in page
    assert "Récit des faits" in page and "Mesures provisoires" in page
    assert "Agression sexuelle" in page and "Réseau communautaire de plaintes" in page
    assert "Auteur présumé 1 : Jean Dupont" in page and "Victime 1" in page
    assert "Contingent militaire" in page and "Bangladesh (BGD)" in page
    assert "Renvoi aux fins d’enquête non effectué" in page
    for english in ("Narrative", "Interim measures", "Sexual abuse", "Military contingent"):
        assert english not in page


def test_the_same_pages_in_english(app, team):
    set_locale(app, team.id, "en")
    listing = text(team.client.get("/cases", headers={"Accept-Language": "fr"}))
    assert "<h1>Cases</h1>" in listing and "<td>Sexual abuse</td>" in listing
    assert "<td>Mar 2, 2026</td>" in listing
    page = text(team.client.get(f"/cases/{team.reference}"))
    assert "Narrative" in page and "Bangladesh (BGD)" in page and "Subject 1: Jean Dupont" in page


def test_form_labels_choices_and_problems_in_french(app, team):
    set_locale(app, team.id, "fr")
    form = text(team.client.get("/cases/new"))
    assert "Enregistrer une nouvelle affaire" in form
    assert "Type d’allégation" in form and ">Relations sexuelles monnayées<" in form
    assert ">Bureau des services de contrôle interne (BSCI)<" in text(
        team.client.get(f"/cases/{team.reference}/referrals/new")
    )
    token = TOKEN.search(form).group(1)
    answer = team.client.post(
        "/cases/new",
        data={
            "csrf_token": token,
            "mission": "MINUSCA",
            "received_on": "2099-01-01",
            "incident_date": "soon",
        },
    )
    page = text(answer)
    assert answer.status_code == 400
    assert "Rien n’a été enregistré. Veuillez corriger :" in page
    assert "Reçue le : ne peut pas être dans le futur" in page
    assert "Date des faits : Le texte ne correspond pas au format attendu." in page


def test_password_advice_in_french(app, team):
    set_locale(app, team.id, "fr")
    form = {"current_password": PASSWORD, "confirm": "aaaaaaaaaaaa", "new_password": "aaaaaaaaaaaa"}
    page = text(post(team.client, "/account/password", form))
    assert "trop facile à deviner : ajoutez des mots plus inhabituels" in page


def test_flash_messages_in_french(app, team):
    set_locale(app, team.id, "fr")
    path = f"/cases/{team.reference}/measures/new"
    token = token_of(team.client, path)
    answer = team.client.post(
        path,
        data={"csrf_token": token, "type": "administrative_leave", "started_on": "2026-03-05"},
        follow_redirects=True,
    )
    page = text(answer)
    assert "Mesure provisoire enregistrée." in page and "Congé administratif" in page


def test_the_api_stays_english_for_a_french_account(app, team):
    set_locale(app, team.id, "fr")
    answer = team.client.get(f"/api/v1/cases/{team.reference}", headers={"Accept-Language": "fr"})
    assert answer.get_json()["status"] == "received"
    missing = team.client.get("/api/v1/cases/MINUSCA-2026-9999").get_json()
    assert missing["error"]["message"] == "no such case"
    refused = team.client.post(f"/api/v1/cases/{team.reference}/transitions", json={"to": "closed"})
    assert "allowed next statuses" in str(refused.get_json()["error"]["fields"])
    # The same refusal on a page is in French.
    page = text(team.client.get("/cases/MINUSCA-2026-9999"))
    assert "affaire introuvable" in page


def test_report_pages_in_french(app, logged_in):
    with app.app_context(), unit_of_work():
        for _ in range(6):
            make_case(received_on=date(2025, 4, 2))
    leader = logged_in(("leadership",))
    index = text(leader.get("/reports/"))
    assert "<h1>Statistiques</h1>" in index and "Allégations (signalements reçus)" in index
    page = text(leader.get("/reports/allegations?by=category"))
    assert "Catégorie" in page and "Atteinte sexuelle" in page
    assert "Les cellules masquées sont supprimées" in page
    chart = leader.get("/reports/allegations/chart.svg?by=category").get_data(as_text=True)
    assert "Allégations (signalements reçus)" in chart and "Atteinte sexuelle" in chart


def test_auditor_and_admin_pages_in_french(logged_in):
    auditor = logged_in(("auditor",))
    events = text(auditor.get("/audit/events"))
    assert "Événements du journal d’audit" in events and "Compte (adresse électronique" in events
    assert ">réussi<" in events
    assert "Accès inhabituels" in text(auditor.get("/audit/flags"))
    bad = auditor.get("/audit/events?since=yesterday")
    assert bad.status_code == 400 and "indiquez une date ISO" in text(bad)
    # A schema's message with two limits, not the one-limit message that starts it.
    too_many = auditor.get("/audit/events?per_page=900")
    assert too_many.status_code == 400
    assert "Doit être supérieur ou égal à 1 et inférieur ou égal à 500." in text(too_many)
    admin = logged_in(("admin",))
    accounts = text(admin.get("/admin/users"))
    assert "<h1>Comptes</h1>" in accounts and "Administrateur" in accounts
    assert "Ajouter une mission" in text(admin.get("/admin/missions"))
    new_account = text(admin.get("/admin/users/new"))
    assert "Au moins 12 caractères, difficile à deviner ; une longue suite" in new_account
    assert "Sans mot de passe, le compte ne peut pas se connecter" in new_account


def test_an_upload_problem_in_french(app, team):
    """A schema's own message on the evidence form, translated once by the view."""
    set_locale(app, team.id, "fr")
    path = f"/cases/{team.reference}/attachments"
    form = {
        "csrf_token": token_of(team.client, path),
        "next": path,
        "description": "x" * (attachments.MAX_DESCRIPTION_LENGTH + 1),
        "file": (io.BytesIO(b"plain text"), "note.txt", "text/plain"),
    }
    answer = team.client.post(path, data=form)
    assert answer.status_code == 400
    limit = attachments.MAX_DESCRIPTION_LENGTH
    assert f"Dépasse la longueur maximale de {limit}." in text(answer)

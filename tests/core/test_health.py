from __future__ import annotations

from tests.factories import make_case


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_when_database_and_keys_work(app, client, work):
    with work():
        make_case()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "keys": "ok"}


def test_readyz_on_an_empty_database(make_app):
    response = make_app().test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "not_migrated"

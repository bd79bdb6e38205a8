"""The JSON error shape of the brief, and security headers on every answer."""

from __future__ import annotations


def test_unknown_api_path_gets_the_json_error_shape(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == "not_found"


def test_unknown_page_gets_an_html_error(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"404" in response.data


def test_security_headers(client):
    response = client.get("/healthz")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "http" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"

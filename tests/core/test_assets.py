"""Static files are fetched once per release on a slow link; nothing else is ever cached."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from conduct.core.assets import static_versions

STATIC = Path(__file__).resolve().parents[2] / "conduct" / "static"
LINKED = re.compile(r'href="(/static/([^"?]+)\?v=([0-9a-f]+))"')


def fetch(client, url: str, **kwargs):
    """A GET whose file is read and closed (a static answer streams from an open file)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def linked_assets(client) -> list[tuple[str, str, str]]:
    page = client.get("/login")
    assert page.status_code == 200
    return LINKED.findall(page.get_data(as_text=True))


def test_pages_link_static_files_by_their_content_hash(client):
    links = linked_assets(client)
    assert {name for _, name, _ in links} == {"conduct.css", "favicon.svg"}
    for _, name, version in links:
        assert version == hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def test_a_versioned_static_file_is_kept_for_a_year(client):
    for url, name, _ in linked_assets(client):
        response = fetch(client, url)
        assert response.status_code == 200
        assert response.data == (STATIC / name).read_bytes()
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        # The other security headers are still there.
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_unversioned_or_stale_static_file_is_checked_again_each_time(client):
    for url in ("/static/conduct.css", "/static/conduct.css?v=000000000000"):
        response = fetch(client, url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"
        again = fetch(client, url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
        assert again.headers["Cache-Control"] == "no-cache"
        assert again.data == b""


def test_a_missing_static_file_is_not_cached(client):
    response = fetch(client, "/static/missing.css?v=000000000000")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"


def test_other_answers_are_never_stored(client):
    for url in ("/login", "/api/v1/cases", "/healthz"):
        assert client.get(url).headers["Cache-Control"] == "no-store"


def test_another_spelling_of_a_file_is_never_kept_for_long(app, client):
    version = app.extensions["conduct_static_versions"]["conduct.css"]
    for url in (f"/static/x/../conduct.css?v={version}", f"/static/./conduct.css?v={version}"):
        response = fetch(client, url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"


def test_static_versions_of_a_folder(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "a.css").write_text("a{}")
    (tmp_path / "b.svg").write_text("<svg/>")
    assert static_versions(str(tmp_path)) == {
        "css/a.css": hashlib.sha256(b"a{}").hexdigest()[:12],
        "b.svg": hashlib.sha256(b"<svg/>").hexdigest()[:12],
    }
    assert static_versions(str(tmp_path / "missing")) == {}

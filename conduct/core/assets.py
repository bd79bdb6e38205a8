"""Static files that a slow link fetches once.

Pages link the style sheet and the icon with the first 12 hex digits of their SHA-256 in the
address (``asset_url``). A static file asked for with the version it has now is sent with a
year-long, immutable cache lifetime, so a browser on a field mission's link downloads it once
per release instead of on every page. Asked for without a version, or with another one (a page
cached from before a release), it is sent with ``no-cache``: the browser keeps it but asks
again each time, and gets a short 304 while it has not changed.

Static files are the same public bytes for everyone, so this holds nothing of a case; every
other response keeps ``Cache-Control: no-store`` (``conduct.core.web``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, current_app, request, url_for

YEAR = 365 * 24 * 3600
VERSION_LENGTH = 12


def static_versions(static_folder: str) -> dict[str, str]:
    """The version of every file in the static folder (its content hash), by its name there
    ("a/b.css").

    Computed once at start-up (the files change only with a release, which restarts the
    servers), so a request can only look a name up: the names clients send never add to it.
    """
    folder = Path(static_folder)
    files = [path for path in sorted(folder.rglob("*")) if path.is_file()]
    return {path.relative_to(folder).as_posix(): _content_hash(path) for path in files}


def _content_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:VERSION_LENGTH]


def asset_url(filename: str) -> str:
    """The address of a static file with its version, for templates."""
    version = current_app.extensions["conduct_static_versions"].get(filename)
    return url_for("static", filename=filename, v=version)


def cache_static(response: Response) -> None:
    """Set how long a browser may keep a static file (see the module docstring)."""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return
    filename = (request.view_args or {}).get("filename", "")
    current = current_app.extensions["conduct_static_versions"].get(filename)
    if current is not None and request.args.get("v") == current:
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"


def init_app(app: Flask) -> None:
    app.extensions["conduct_static_versions"] = static_versions(app.static_folder)
    app.jinja_env.globals["asset_url"] = asset_url

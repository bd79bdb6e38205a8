"""Settings: typed, layered, and production refuses what is unsafe with advice."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conduct.config import ConfigurationError, load_settings


def _production(tmp_path, **extra):
    values = {
        "CONDUCT_ENV": "production",
        "CONDUCT_INSTANCE_PATH": str(tmp_path),
        "CONDUCT_SECRET_KEY": "p" * 48,
        "CONDUCT_DATABASE_URL": "postgresql://conduct@db/conduct",
    }
    values.update(extra)
    return load_settings(values, environ={})


def test_defaults_for_development(tmp_path):
    settings = load_settings({"CONDUCT_INSTANCE_PATH": str(tmp_path)}, environ={})
    assert settings.env == "development"
    assert settings.database_url == f"sqlite:///{tmp_path / 'conduct.db'}"
    assert settings.key_dir == tmp_path / "keys"
    assert settings.suppression_threshold == 5
    assert settings.secret_key_generated and len(settings.secret_key) >= 32
    again = load_settings({"CONDUCT_INSTANCE_PATH": str(tmp_path)}, environ={})
    assert again.secret_key == settings.secret_key


def test_instance_config_then_environment(tmp_path):
    (tmp_path / "config.py").write_text(
        "CONDUCT_SUPPRESSION_THRESHOLD = 7\nCONDUCT_REDIS_URL = 'x'\n"
    )
    environ = {"CONDUCT_INSTANCE_PATH": str(tmp_path), "CONDUCT_SUPPRESSION_THRESHOLD": "9"}
    settings = load_settings(environ=environ)
    assert settings.suppression_threshold == 9
    assert settings.redis_url == "x"


def test_postgres_urls_use_psycopg(tmp_path):
    settings = _production(tmp_path)
    assert settings.database_url == "postgresql+psycopg://conduct@db/conduct"


@pytest.mark.parametrize(
    ("extra", "advice"),
    [
        ({"CONDUCT_SECRET_KEY": ""}, "CONDUCT_SECRET_KEY is missing or weak"),
        ({"CONDUCT_SECRET_KEY": "changeme"}, "CONDUCT_SECRET_KEY is missing or weak"),
        ({"CONDUCT_SECRET_KEY": "short-but-not-a-word"}, "at least 32"),
        ({"CONDUCT_DATABASE_URL": "sqlite:///x.db"}, "production needs PostgreSQL"),
        ({"CONDUCT_SUPPRESSION_THRESHOLD": "one"}, "must be a whole number"),
        ({"CONDUCT_ENV": "staging"}, "CONDUCT_ENV must be one of"),
    ],
)
def test_production_refuses_unsafe_settings(tmp_path, extra, advice):
    with pytest.raises(ConfigurationError, match=advice):
        _production(tmp_path, **extra)


def test_production_refuses_the_development_secret(tmp_path):
    secret = load_settings({"CONDUCT_INSTANCE_PATH": str(tmp_path)}, environ={}).secret_key
    with pytest.raises(ConfigurationError, match="development secret"):
        _production(tmp_path, CONDUCT_SECRET_KEY=secret)


def test_sqlite_in_production_only_when_explicitly_allowed(tmp_path):
    settings = _production(
        tmp_path, CONDUCT_DATABASE_URL="sqlite:///x.db", CONDUCT_ALLOW_SQLITE="1"
    )
    assert settings.uses_sqlite


def test_the_command_line_says_what_to_do_in_one_line(tmp_path):
    environ = {
        "CONDUCT_ENV": "production",
        "CONDUCT_INSTANCE_PATH": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", "from conduct.cli import main; main()", "keys", "status"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("conduct: ") and "CONDUCT_SECRET_KEY" in lines[0]


def test_attachment_settings(tmp_path):
    settings = load_settings({"CONDUCT_INSTANCE_PATH": str(tmp_path)}, environ={})
    assert settings.attachment_dir == tmp_path / "attachments"
    assert settings.attachment_max_bytes == 20 * 1024 * 1024
    chosen = load_settings(
        {
            "CONDUCT_INSTANCE_PATH": str(tmp_path),
            "CONDUCT_ATTACHMENT_DIR": str(tmp_path / "files"),
            "CONDUCT_ATTACHMENT_MAX_BYTES": "1000",
        },
        environ={},
    )
    assert (chosen.attachment_dir, chosen.attachment_max_bytes) == (tmp_path / "files", 1000)
    with pytest.raises(ConfigurationError, match="CONDUCT_ATTACHMENT_MAX_BYTES"):
        load_settings(
            {"CONDUCT_INSTANCE_PATH": str(tmp_path), "CONDUCT_ATTACHMENT_MAX_BYTES": "0"},
            environ={},
        )

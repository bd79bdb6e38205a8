"""Keys: made once, private, never overwritten; a missing or wrong key stops the service."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from conduct import create_app
from conduct.config import ConfigurationError
from conduct.crypto.keys import (
    DEPLOYMENT_KEYS,
    FileKekProvider,
    Keyring,
    init_key_dir,
    kek_file_name,
)


def _settings(tmp_path, key_dir, **extra):
    return {
        "CONDUCT_ENV": "testing",
        "CONDUCT_INSTANCE_PATH": str(tmp_path / "instance"),
        "CONDUCT_KEY_DIR": str(key_dir),
        "CONDUCT_SECRET_KEY": "s" * 40,
        **extra,
    }


def test_init_makes_private_files_and_never_overwrites(tmp_path):
    key_dir = tmp_path / "keys"
    created = init_key_dir(key_dir)
    assert sorted(created) == sorted([kek_file_name(1)] + [f"{p}.key" for p in DEPLOYMENT_KEYS])
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    before = {}
    for path in key_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        before[path.name] = path.read_bytes()
    assert init_key_dir(key_dir) == []
    assert {path.name: path.read_bytes() for path in key_dir.iterdir()} == before


def test_keys_open_with_their_kek(tmp_path):
    key_dir = tmp_path / "keys"
    init_key_dir(key_dir)
    keyring = Keyring.load(FileKekProvider(key_dir), key_dir)
    assert len(keyring.blind_index.personnel_number("AB 123")) == 32
    assert keyring.statistics.key_id is not None


def test_missing_key_directory_stops_start_up_with_advice(tmp_path):
    with pytest.raises(ConfigurationError, match="conduct keys init"):
        create_app(_settings(tmp_path, tmp_path / "nowhere"))


def test_missing_deployment_key_stops_start_up(tmp_path):
    key_dir = tmp_path / "keys"
    init_key_dir(key_dir)
    (key_dir / "statistics.key").unlink()
    with pytest.raises(ConfigurationError, match="statistics.key is missing"):
        create_app(_settings(tmp_path, key_dir))


def test_wrong_kek_stops_start_up(tmp_path):
    key_dir = tmp_path / "keys"
    init_key_dir(key_dir)
    kek = key_dir / kek_file_name(1)
    kek.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    with pytest.raises(ConfigurationError, match="wrong KEK"):
        create_app(_settings(tmp_path, key_dir))


def test_key_readable_by_others_stops_start_up(tmp_path):
    key_dir = tmp_path / "keys"
    init_key_dir(key_dir)
    os.chmod(key_dir / kek_file_name(1), 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        create_app(_settings(tmp_path, key_dir))


def test_kek_from_the_environment(tmp_path):
    key_dir = tmp_path / "keys"
    init_key_dir(key_dir)
    kek_file = key_dir / kek_file_name(1)
    kek_text = kek_file.read_text().strip()
    kek_file.unlink()
    with pytest.raises(ConfigurationError):
        create_app(_settings(tmp_path, key_dir))
    app = create_app(_settings(tmp_path, key_dir, CONDUCT_KEK=f"1:{kek_text}"))
    assert app.extensions["conduct_keyring"].statistics is not None

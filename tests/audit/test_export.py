"""Export, then verify the export in a new process with only Python and `cryptography`, and
the checkpoint signature with the openssl command line, as docs/audit.md shows."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conduct.audit.logformat import inclusion_proof, leaf_hash, node_hash, parse_note
from conduct.core.db import db
from tests.audit.support import add_events, seal_now

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


@pytest.fixture
def exported(app, tmp_path) -> Path:
    """A log of 6 events sealed in two checkpoints (4, then 6 with the export's own event)."""
    with app.app_context():
        add_events(4)
        seal_now()
        add_events(1)
        db.session.remove()
    directory = tmp_path / "export"
    result = app.test_cli_runner().invoke(args=["audit", "export", str(directory)])
    assert result.exit_code == 0, result.output
    assert "exported 6 events and 2 checkpoints" in result.output
    return directory


@pytest.fixture(scope="module")
def only_cryptography(tmp_path_factory) -> Path:
    """A module path holding `cryptography` (and the cffi it loads) and nothing else."""
    import cryptography

    site_packages = Path(cryptography.__file__).resolve().parent.parent
    path = tmp_path_factory.mktemp("only-cryptography")
    for entry in site_packages.iterdir():
        if entry.name.startswith(("cryptography", "cffi", "_cffi_backend", "pycparser")):
            (path / entry.name).symlink_to(entry)
    return path


def run_verifier(directory: Path, python_path: Path, *args: str):
    """The exported verify.py in a new interpreter without site-packages: it sees only the
    standard library, `cryptography` and the export's own files."""
    elsewhere = directory.parent / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-S", str(directory / "verify.py"), str(directory), *args],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={"PYTHONPATH": str(python_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_the_verifier_process_cannot_import_conduct(only_cryptography):
    result = subprocess.run(
        [sys.executable, "-S", "-c", "import cryptography; import flask"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(only_cryptography)},
        check=False,
    )
    assert "No module named 'flask'" in result.stderr


def test_the_export_holds_the_log_and_a_standalone_verifier(exported):
    names = sorted(path.name for path in exported.iterdir())
    assert names == [
        "README.txt",
        "audit-public-key.pem",
        "audit-verifier-key.txt",
        "checkpoint.txt",
        "checkpoints.jsonl",
        "events.jsonl",
        "logformat.py",
        "verify.py",
    ]
    lines = (exported / "events.jsonl").read_bytes().splitlines()
    assert len(lines) == 6
    assert json.loads(lines[-1])["action"] == "audit.export"
    source = (exported / "verify.py").read_text() + (exported / "logformat.py").read_text()
    assert "import conduct" not in source and "from conduct" not in source


def test_the_standalone_verifier_accepts_the_export(exported, only_cryptography):
    result = run_verifier(
        exported, only_cryptography, "--public-key", str(exported / "audit-public-key.pem")
    )
    assert result.returncode == 0, result.stderr
    assert "audit log export verified: 6 leaves" in result.stdout


def test_the_standalone_verifier_checks_from_a_trusted_checkpoint(
    exported, only_cryptography, tmp_path
):
    first = json.loads((exported / "checkpoints.jsonl").read_text().splitlines()[0])["note"]
    kept = tmp_path / "kept.txt"
    kept.write_text(first)
    assert run_verifier(exported, only_cryptography, "--from", str(kept)).returncode == 0
    kept.write_text(first.replace("\n4\n", "\n3\n"))
    result = run_verifier(exported, only_cryptography, "--from", str(kept))
    assert result.returncode == 1 and "signature is not valid" in result.stderr


@pytest.mark.parametrize(
    "change, first_bad",
    [
        ("edit line 3", 0),  # in the first checkpoint (leaves 0 to 3)
        ("delete line 2", 0),
        ("insert a copy of line 5 before it", 4),  # leaves 0 to 3 still match
        ("swap lines 5 and 6", 4),
        ("truncate after line 5", 5),
        ("append a line", 6),
    ],
)
def test_the_standalone_verifier_names_the_first_bad_index(
    exported, only_cryptography, change, first_bad
):
    """The export has only the signed roots to go by: the index named is the first leaf of the
    first checkpoint range that no longer matches, or the first leaf missing or extra."""
    path = exported / "events.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    if change.startswith("edit"):
        lines[2] = lines[2].replace(b'"outcome":"success"', b'"outcome":"denied"')
    elif change.startswith("delete"):
        del lines[1]
    elif change.startswith("insert"):
        lines.insert(4, lines[4])
    elif change.startswith("swap"):
        lines[4], lines[5] = lines[5], lines[4]
    elif change.startswith("truncate"):
        del lines[5:]
    else:
        lines.append(lines[0])
    path.write_bytes(b"".join(lines))
    result = run_verifier(exported, only_cryptography)
    assert result.returncode == 1
    assert f"first bad leaf index {first_bad}:" in result.stderr, result.stderr


def test_a_line_not_in_canonical_form_is_named(exported, only_cryptography):
    path = exported / "events.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[3] = lines[3].replace(b'":', b'": ', 1)
    path.write_bytes(b"".join(lines))
    result = run_verifier(exported, only_cryptography)
    assert result.returncode == 1
    assert "first bad leaf index 3" in result.stderr and "canonical" in result.stderr


def test_openssl_verifies_the_checkpoint_signature_as_the_docs_say(exported):
    commands = (
        "head -n 3 checkpoint.txt > body.txt && "
        "tail -n 1 checkpoint.txt | awk '{print $NF}' | base64 -d | tail -c 64 > sig.bin && "
        f"{OPENSSL} pkeyutl -verify -pubin -inkey audit-public-key.pem -rawin "
        "-in body.txt -sigfile sig.bin"
    )
    result = subprocess.run(
        ["bash", "-c", commands], cwd=exported, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout

    (exported / "body.txt").write_bytes(
        (exported / "body.txt").read_bytes().replace(b"\n6\n", b"\n7\n")
    )
    tampered = subprocess.run(
        [OPENSSL, "pkeyutl", "-verify", "-pubin", "-inkey", "audit-public-key.pem", "-rawin"]
        + ["-in", "body.txt", "-sigfile", "sig.bin"],
        cwd=exported,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tampered.returncode != 0


def test_the_key_id_can_be_checked_with_openssl(exported):
    commands = (
        "name=$(head -n 1 checkpoint.txt) && "
        f"{OPENSSL} pkey -pubin -in audit-public-key.pem -outform DER | tail -c 32 > key.bin && "
        "{ printf '%s\\n\\001' \"$name\"; cat key.bin; } | "
        f"{OPENSSL} dgst -sha256 -binary | head -c 4 | xxd -p && "
        "tail -n 1 checkpoint.txt | awk '{print $NF}' | base64 -d | head -c 4 | xxd -p"
    )
    result = subprocess.run(
        ["bash", "-c", commands], cwd=exported, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    computed, signed = result.stdout.split()
    assert computed == signed


def test_an_inclusion_proof_is_printed_checked_and_redone_by_hand(exported, only_cryptography):
    result = run_verifier(exported, only_cryptography, "--prove", "4")
    assert result.returncode == 0, result.stderr
    assert "inclusion proof verified" in result.stdout
    printed = dict(
        line.rsplit(" ", 1)
        for line in result.stdout.splitlines()
        if line.startswith(("path", "root", "leaf hash"))
    )
    lines = (exported / "events.jsonl").read_bytes().splitlines()
    hashes = [leaf_hash(line) for line in lines]
    path = inclusion_proof(hashes, 4)
    assert printed["path 0 right"] == base64.b64encode(path[0]).decode()
    assert printed["path 1 left"] == base64.b64encode(path[1]).decode()
    # By hand, as docs/audit.md does it with openssl: right sibling first, then the left one.
    root = node_hash(path[1], node_hash(hashes[4], path[0]))
    note = parse_note((exported / "checkpoint.txt").read_text())
    assert root == note.checkpoint.root
    assert printed["root"] == base64.b64encode(root).decode()

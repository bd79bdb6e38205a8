"""Evidence attachments: sealed on disk, checked on the way in, audited both ways."""

from __future__ import annotations

import io
import os
import re
import uuid
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conduct.audit.models import AuditEvent
from conduct.cases import attachment_files, attachments, services
from conduct.cases.models import Attachment, CaseTeamMember
from conduct.core.db import db, unit_of_work
from conduct.crypto import IntegrityError, current_vault
from tests.factories import make_case

LIMIT = 64 * 1024
# A PDF whose body is random: any 16 bytes of it found on disk would be plaintext.
PDF = b"%PDF-1.7\n" + os.urandom(9000) + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(300)
TEXT = "Témoignage recueilli le 3 mars.\nLieu : Bangui.\n".encode()


def _docx(parts=("[Content_Types].xml", "word/document.xml")) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in parts:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


@pytest.fixture
def app_settings():
    return {"CONDUCT_ATTACHMENT_MAX_BYTES": str(LIMIT)}


def _client(app, api_login, user_id):
    client = app.test_client()
    assert api_login(client, user_id).status_code == 200
    client.user_id = user_id
    return client


@pytest.fixture
def officer(app, user_factory, api_login):
    return _client(app, api_login, user_factory(missions=("MINUSCA",))[0])


@pytest.fixture
def reference(app, officer):
    with app.app_context(), unit_of_work():
        case = make_case()
        case.team.append(CaseTeamMember(user_id=officer.user_id))
        return case.reference


def _upload(client, reference, data, name="statement.pdf", declared="application/pdf", **form):
    body = {"file": (io.BytesIO(data), name, declared), **form}
    return client.post(
        f"/api/v1/cases/{reference}/attachments", data=body, content_type="multipart/form-data"
    )


def _stored_files(app) -> list[Path]:
    folder = app.extensions["conduct_settings"].attachment_dir
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def _events(app, action):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _error_fields(response, status=400):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response.get_json()["error"]["fields"]


def test_upload_then_download_gives_the_same_bytes(app, officer, reference):
    created = _upload(officer, reference, PDF, description="Signed statement")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["filename"] == "statement.pdf" and body["content_type"] == "application/pdf"
    assert body["byte_size"] == len(PDF) and body["description"] == "Signed statement"
    assert body["uploaded_by"] == str(officer.user_id) and body["uploaded_at"]

    download = officer.get(created.headers["Location"])
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "statement.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("data", "name", "declared", "stored_type"),
    [
        (PNG, "photo.png", "image/png", "image/png"),
        (b"\xff\xd8\xff\xe0" + os.urandom(100), "photo.jpg", "image/jpeg", "image/jpeg"),
        (TEXT, "notes.txt", "text/plain", "text/plain"),
        (_docx(), "report.docx", attachments.filetypes.DOCX, attachments.filetypes.DOCX),
        (b"\0\0\0\x18ftypmp42" + os.urandom(64), "clip.mp4", "video/mp4", "video/mp4"),
        (b"\0\0\0\x18ftypM4A " + os.urandom(64), "voice.m4a", "audio/x-m4a", "audio/mp4"),
        (b"RIFF\x24\0\0\0WAVEfmt " + os.urandom(64), "call.wav", "audio/wav", "audio/wav"),
        (b"OggS\0\x02" + os.urandom(64), "voice.opus", "audio/ogg", "audio/ogg"),
        (PNG, "photo.png", "application/octet-stream", "image/png"),
    ],
)
def test_accepted_types_round_trip(app, officer, reference, data, name, declared, stored_type):
    created = _upload(officer, reference, data, name=name, declared=declared)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["content_type"] == stored_type
    download = officer.get(created.headers["Location"])
    assert download.data == data and download.mimetype == stored_type


def test_the_file_on_disk_is_ciphertext(app, officer, reference):
    created = _upload(officer, reference, PDF).get_json()
    [stored] = _stored_files(app)
    assert stored.name == created["id"].replace("-", "")
    sealed = stored.read_bytes()
    assert PDF not in sealed and b"%PDF" not in sealed
    assert not any(PDF[start : start + 16] in sealed for start in range(len(PDF) - 16))
    assert stored.stat().st_mode & 0o077 == 0
    # Padded: the size on disk does not give the file's size.
    assert len(sealed) > len(PDF) + 29 + 16
    with app.app_context():
        raw = db.session.execute(select(Attachment.__table__)).one()
        assert b"statement" not in b"".join(
            bytes(cell) for cell in raw if isinstance(cell, bytes | memoryview)
        )


def test_a_flipped_byte_or_a_moved_file_fails_the_integrity_check(app, officer, reference):
    first = _upload(officer, reference, PDF).get_json()
    second = _upload(officer, reference, PNG, name="photo.png", declared="image/png").get_json()
    with app.app_context(), unit_of_work() as session:
        case = services.case_by_reference(reference)
        first_path = attachment_files.file_path(case.id, uuid.UUID(first["id"]))
        second_path = attachment_files.file_path(case.id, uuid.UUID(second["id"]))
        sealed = bytearray(first_path.read_bytes())
        assert current_vault().open_file(session, case.id, uuid.UUID(first["id"]), bytes(sealed))
        sealed[len(sealed) // 2] ^= 0x01
        with pytest.raises(IntegrityError):
            current_vault().open_file(session, case.id, uuid.UUID(first["id"]), bytes(sealed))
        # The first file altered; the second replaced by a copy of the first (moved).
        second_path.write_bytes(first_path.read_bytes())
        first_path.write_bytes(bytes(sealed))

    url = f"/api/v1/cases/{reference}/attachments/"
    for attachment in (first, second):
        refused = officer.get(url + attachment["id"])
        assert refused.status_code == 500
        assert refused.get_json()["error"]["code"] == "integrity_error"
        assert PDF[:100] not in refused.data
    failures = _events(app, "request.refused")
    assert [event.outcome for event in failures] == ["failed", "failed"]
    assert _events(app, "attachment.read") == []


def test_a_file_over_the_limit_is_a_413_naming_file(app, officer, reference):
    over = b"%PDF-1.7\n" + bytes(LIMIT)
    assert "file" in _error_fields(_upload(officer, reference, over), 413)
    # A body over the limit and the multipart envelope is refused before it is read. (Built by
    # hand: the test client would spool it to a temporary file it leaves open.)
    huge = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
        + bytes(LIMIT + 2 * 1024 * 1024)
        + b"\r\n--b--\r\n"
    )
    refused = officer.post(
        f"/api/v1/cases/{reference}/attachments",
        data=huge,
        content_type="multipart/form-data; boundary=b",
    )
    assert "file" in _error_fields(refused, 413)
    exactly = PDF[: LIMIT - 100] + bytes(LIMIT - len(PDF[: LIMIT - 100]))
    assert _upload(officer, reference, exactly).status_code == 201
    assert len(_stored_files(app)) == 1


@pytest.mark.parametrize(
    ("data", "name", "declared", "field"),
    [
        (PNG, "photo.pdf", "application/pdf", "file"),
        (PDF, "statement.pdf", "image/png", "file"),
        (b"MZ\x90\x00\x03" + os.urandom(200), "tool.exe", "application/pdf", "file"),
        (b"<html><script>alert(1)</script></html>", "page.html", "text/html", "file"),
        (_docx(("[Content_Types].xml", "evil.bin")), "x.docx", attachments.filetypes.DOCX, "file"),
        (b"", "empty.pdf", "application/pdf", "file"),
        ("Caf\xe9".encode("latin-1") + b"\x00\x01", "notes.txt", "text/plain", "file"),
    ],
)
def test_a_refused_type_is_a_400_naming_file(app, officer, reference, data, name, declared, field):
    assert field in _error_fields(_upload(officer, reference, data, name=name, declared=declared))
    assert _stored_files(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_bad_form_fields_are_refused(app, officer, reference):
    assert "description" in _error_fields(_upload(officer, reference, PDF, description="x" * 2001))
    missing = officer.post(
        f"/api/v1/cases/{reference}/attachments",
        data={"description": "no file"},
        content_type="multipart/form-data",
    )
    assert "file" in _error_fields(missing)
    assert _stored_files(app) == []


def test_the_filename_is_made_safe_and_matches_the_type(app, officer, reference):
    body = _upload(officer, reference, PDF, name="../../Témoignage\x07.html").get_json()
    assert body["filename"] == "Témoignage.html.pdf"
    disposition = officer.get(f"/api/v1/cases/{reference}/attachments/{body['id']}").headers[
        "Content-Disposition"
    ]
    assert "filename*=UTF-8''T%C3%A9moignage.html.pdf" in disposition
    assert "/" not in disposition and "\\" not in disposition


def test_uploads_and_downloads_are_audited_by_field_name(app, officer, reference):
    created = _upload(officer, reference, PDF, description="Secret description").get_json()
    officer.get(f"/api/v1/cases/{reference}/attachments/{created['id']}")
    [upload] = _events(app, "attachment.create")
    [download] = _events(app, "attachment.read")
    assert upload.fields == "byte_size,content_type,description,file,filename"
    assert download.fields == "content_type,file,filename"
    for event in (upload, download):
        assert event.object_id == created["id"] and event.case_reference == reference
        assert event.actor_id == officer.user_id
        text = str(vars(event))
        assert "statement" not in text and "Secret" not in text and "pdf" not in text


def test_only_the_team_uploads_and_downloads(app, officer, reference, user_factory, api_login):
    created = _upload(officer, reference, PDF).get_json()
    url = f"/api/v1/cases/{reference}/attachments"
    colleague = _client(app, api_login, user_factory(missions=("MINUSCA",))[0])
    outsider = _client(app, api_login, user_factory(missions=("MONUSCO",))[0])
    leadership = _client(app, api_login, user_factory(roles=("leadership",), missions=())[0])
    assert _upload(colleague, reference, PDF).status_code == 403
    assert colleague.get(f"{url}/{created['id']}").status_code == 403
    assert _upload(outsider, reference, PDF).status_code == 404
    assert outsider.get(f"{url}/{created['id']}").status_code == 404
    assert leadership.get(f"{url}/{created['id']}").status_code == 403
    assert officer.get(f"{url}/{created['id'][:-4]}0000").status_code == 404
    assert officer.get(f"{url}/not-an-id").status_code == 404
    assert len(_stored_files(app)) == 1

    [seen] = colleague.get(f"/api/v1/cases/{reference}").get_json()["attachments"]
    assert set(seen) == {"id", "uploaded_at", "uploaded_by"}
    [shown] = officer.get(f"/api/v1/cases/{reference}").get_json()["attachments"]
    assert shown == created


def test_a_rolled_back_upload_leaves_no_file(app, officer, reference, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(attachments, "record", fail)
    response = _upload(officer, reference, PDF)
    assert response.status_code == 500
    assert _stored_files(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0

    with app.app_context(), pytest.raises(RuntimeError), unit_of_work():
        case = services.case_by_reference(reference)
        sealed = current_vault().seal_file(db.session, case.id, case.id, PDF)
        attachment_files.write_file(db.session, case.id, case.id, sealed)
        assert len(_stored_files(app)) == 1
        raise RuntimeError("the request failed after the write")
    assert _stored_files(app) == []


def test_shredding_a_case_removes_its_files_when_it_commits(app, officer, reference):
    _upload(officer, reference, PDF)
    _upload(officer, reference, PNG, name="photo.png", declared="image/png")
    assert len(_stored_files(app)) == 2
    with app.app_context():
        with pytest.raises(RuntimeError), unit_of_work():
            services.shred_case(None, services.case_by_reference(reference))
            raise RuntimeError("changed my mind")
        assert len(_stored_files(app)) == 2
        with unit_of_work():
            services.shred_case(None, services.case_by_reference(reference))
    assert _stored_files(app) == []


# HTML pages


def _csrf(page: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()


def test_the_html_page_uploads_and_downloads(app, officer, reference):
    page = officer.get(f"/cases/{reference}/attachments")
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.data and b"No evidence files yet" in page.data
    form = {
        "csrf_token": _csrf(page.data),
        "next": f"/cases/{reference}/attachments",
        "description": "Photo of the site",
        "file": (io.BytesIO(PNG), "site.png", "image/png"),
    }
    sent = officer.post(f"/cases/{reference}/attachments", data=form)
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/attachments")
    listed = officer.get(f"/cases/{reference}/attachments")
    assert b"site.png" in listed.data and b"Photo of the site" in listed.data
    link = re.search(rb'href="(/cases/[^"]+/attachments/[0-9a-f-]{36})"', listed.data)
    download = officer.get(link.group(1).decode())
    assert download.data == PNG and download.headers["Cache-Control"] == "no-store"
    assert [event.action for event in _events(app, "attachment.read")] == ["attachment.read"]


def test_the_html_upload_shows_problems_and_needs_its_csrf_token(app, officer, reference):
    page = officer.get(f"/cases/{reference}/attachments")
    wrong = {
        "csrf_token": _csrf(page.data),
        "file": (io.BytesIO(PNG), "photo.pdf", "application/pdf"),
    }
    refused = officer.post(f"/cases/{reference}/attachments", data=wrong)
    assert refused.status_code == 400 and b"file-error" in refused.data
    forged = {"file": (io.BytesIO(PNG), "site.png", "image/png")}
    assert officer.post(f"/cases/{reference}/attachments", data=forged).status_code == 400
    assert _stored_files(app) == []


def test_the_case_page_shows_files_to_the_team_only(
    app, officer, reference, user_factory, api_login
):
    _upload(officer, reference, PDF, description="Signed statement")
    page = officer.get(f"/cases/{reference}")
    assert page.status_code == 200
    assert b"statement.pdf" in page.data and b'enctype="multipart/form-data"' in page.data
    colleague = _client(app, api_login, user_factory(missions=("MINUSCA",))[0])
    seen = colleague.get(f"/cases/{reference}")
    assert seen.status_code == 200 and b"Evidence files" in seen.data
    assert b"statement" not in seen.data and b"Signed" not in seen.data
    assert b'enctype="multipart/form-data"' not in seen.data


# Leftover files


def _age(path: Path, hours: float = 3) -> None:
    then = os.path.getmtime(path) - hours * 3600
    os.utime(path, (then, then))


def test_sweeping_removes_only_what_no_committed_row_needs(app, officer, reference):
    created = _upload(officer, reference, PDF)
    assert created.status_code == 201
    (kept,) = _stored_files(app)
    folder = kept.parent
    orphan = folder / uuid.uuid4().hex  # renamed into place, then the process died
    orphan.write_bytes(b"sealed bytes of an upload that never committed")
    partial = folder / ".upload-abc123"
    partial.write_bytes(b"half a file")
    fresh = folder / uuid.uuid4().hex  # an upload still between its rename and its commit
    fresh.write_bytes(b"sealed bytes")
    stranger = folder / "notes.txt"
    stranger.write_text("not written by Conduct")
    root = app.extensions["conduct_settings"].attachment_dir
    shredded_folder = root / uuid.uuid4().hex  # a case whose key is gone (or never committed)
    shredded_folder.mkdir()
    (shredded_folder / uuid.uuid4().hex).write_bytes(b"sealed with a destroyed key")
    for path in (kept, orphan, partial, stranger, *shredded_folder.iterdir(), shredded_folder):
        _age(path)

    runner = app.test_cli_runner()
    dry = runner.invoke(args=["attachments", "sweep", "--dry-run", "--list"])
    assert dry.exit_code == 0, dry.output
    assert (
        "files no attachment names: 1; unfinished uploads: 1; folders of shredded cases: 1; "
        "unknown names left alone: 1" in dry.output
    )
    assert str(orphan) in dry.output and str(fresh) not in dry.output
    assert orphan.exists() and shredded_folder.exists()

    done = runner.invoke(args=["attachments", "sweep"])
    assert done.exit_code == 0, done.output
    assert "removed 3 paths" in done.output
    assert not orphan.exists() and not partial.exists() and not shredded_folder.exists()
    assert kept.exists() and fresh.exists() and stranger.exists()
    assert officer.get(created.headers["Location"]).data == PDF
    assert len(_events(app, "attachment.sweep")) == 1


def test_a_folder_with_a_recent_file_is_not_swept(app, officer, reference):
    root = app.extensions["conduct_settings"].attachment_dir
    folder = root / uuid.uuid4().hex  # a new case and its first upload, not committed yet
    folder.mkdir(parents=True)
    (folder / uuid.uuid4().hex).write_bytes(b"sealed")
    _age(folder)
    result = app.test_cli_runner().invoke(args=["attachments", "sweep"])
    assert result.exit_code == 0 and "removed 0 paths" in result.output
    assert folder.exists()
    assert _events(app, "attachment.sweep") == []

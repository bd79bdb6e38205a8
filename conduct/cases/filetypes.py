"""Which evidence files Conduct accepts, told from their bytes (magic numbers), not their names.

An upload is accepted only when its content is one of the types below; the type the client
declares must name the same type (or be the generic ``application/octet-stream``, which a
browser sends when it does not know). The stored type is the one found in the bytes, and a
download's filename always ends with an extension of that type, so a file cannot be saved as
something the computer would run or render differently.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from conduct.core.i18n import N_

GENERIC_TYPE = "application/octet-stream"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MP4_VIDEO_BRANDS = {
    *(b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash"),
    *(b"3gp4", b"3gp5", b"3gp6", b"qt  "),
}
_MP4_AUDIO_BRANDS = {b"M4A ", b"M4B "}
_HEIC_BRANDS = {b"heic", b"heix", b"mif1", b"msf1"}
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class FileType:
    """One accepted type: its content type, other names clients use for it, extensions."""

    content_type: str
    label: str
    extensions: tuple[str, ...]
    matches: Callable[[bytes], bool]
    aliases: tuple[str, ...] = ()


def _brand(data: bytes) -> bytes | None:
    """The major brand of an ISO base media file (MP4, M4A, HEIC, 3GP), else None."""
    return data[8:12] if len(data) >= 12 and data[4:8] == b"ftyp" else None


def _zip_holds(*names: str) -> Callable[[bytes], bool]:
    """An Office Open XML file: a ZIP archive holding these parts (read from its directory,
    nothing is decompressed)."""

    def matches(data: bytes) -> bool:
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                present = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return False
        return all(name in present for name in names)

    return matches


def _is_utf8_text(data: bytes) -> bool:
    """UTF-8 text without control characters (tabs, line and page breaks allowed)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not _CONTROL.search(text)


def _is_mp3(data: bytes) -> bool:
    # An ID3 tag, or an MPEG audio frame header (11 sync bits, layer III).
    return data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE6 == 0xE2)


ACCEPTED: tuple[FileType, ...] = (
    FileType("application/pdf", N_("PDF"), (".pdf",), lambda d: d.startswith(b"%PDF-")),
    FileType("image/png", N_("PNG image"), (".png",), lambda d: d.startswith(b"\x89PNG\r\n\x1a\n")),
    FileType(
        "image/jpeg",
        N_("JPEG image"),
        (".jpg", ".jpeg"),
        lambda d: d.startswith(b"\xff\xd8\xff"),
        ("image/jpg", "image/pjpeg"),
    ),
    FileType(
        "image/heic",
        N_("HEIC image"),
        (".heic",),
        lambda d: _brand(d) in _HEIC_BRANDS,
        ("image/heif",),
    ),
    FileType(
        "video/mp4",
        N_("MP4 video"),
        (".mp4", ".m4v", ".mov", ".3gp"),
        lambda d: _brand(d) in _MP4_VIDEO_BRANDS,
        ("video/quicktime", "video/3gpp"),
    ),
    FileType(
        "audio/mp4",
        N_("M4A audio"),
        (".m4a",),
        lambda d: _brand(d) in _MP4_AUDIO_BRANDS,
        ("audio/x-m4a", "audio/m4a"),
    ),
    FileType(
        "audio/wav",
        N_("WAV audio"),
        (".wav",),
        lambda d: d.startswith(b"RIFF") and d[8:12] == b"WAVE",
        ("audio/x-wav", "audio/wave", "audio/vnd.wave"),
    ),
    FileType(
        "audio/ogg",
        N_("Ogg audio (voice messages)"),
        (".ogg", ".oga", ".opus"),
        lambda d: d.startswith(b"OggS"),
        ("audio/opus", "application/ogg"),
    ),
    FileType("audio/mpeg", N_("MP3 audio"), (".mp3",), _is_mp3, ("audio/mp3",)),
    FileType(
        DOCX,
        N_("Word document"),
        (".docx",),
        _zip_holds("[Content_Types].xml", "word/document.xml"),
    ),
    FileType(
        XLSX, N_("Excel workbook"), (".xlsx",), _zip_holds("[Content_Types].xml", "xl/workbook.xml")
    ),
    # Last: text is what is left when no signature matched.
    FileType(
        "text/plain",
        N_("plain text (UTF-8)"),
        (".txt", ".csv"),
        _is_utf8_text,
        ("text/csv", "text/markdown"),
    ),
)
_BY_NAME = {name: t for t in ACCEPTED for name in (t.content_type, *t.aliases)}


def detect(data: bytes) -> FileType | None:
    """The accepted type the bytes are, or None."""
    return next((file_type for file_type in ACCEPTED if file_type.matches(data)), None)


def declared_type(value: str | None) -> FileType | None:
    """The accepted type a declared content type names; None for none, the generic type, or a
    type not accepted (the caller tells these apart with :func:`is_declared`)."""
    name = (value or "").split(";", 1)[0].strip().lower()
    return _BY_NAME.get(name)


def is_declared(value: str | None) -> bool:
    name = (value or "").split(";", 1)[0].strip().lower()
    return bool(name) and name != GENERIC_TYPE


def by_content_type(content_type: str) -> FileType | None:
    return _BY_NAME.get(content_type)


def safe_filename(name: str | None, file_type: FileType, max_length: int = 200) -> str:
    """A filename to store and offer for download: no folders, no control characters, and an
    extension of the file's real type (appended when the name has another one)."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.replace('"', "'").strip(" .")
    stem = name or "attachment"
    if not stem.lower().endswith(file_type.extensions):
        stem += file_type.extensions[0]
    if len(stem) > max_length:
        extension = "." + stem.rsplit(".", 1)[-1]
        stem = stem[: max_length - len(extension)].rstrip(" .") + extension
    return stem

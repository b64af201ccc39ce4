"""Attachment files: type sniffed from magic bytes, sha256, size, and the file name from headers.

The declared Content-Type of a government download is often wrong (a PDF sent as text/html,
everything as application/octet-stream), so the first bytes decide. File names arrive as
RFC 5987 `filename*=UTF-8''…`, as raw GBK bytes, or percent-encoded in either charset.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import asdict, dataclass
from io import BytesIO
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit

#: (magic prefix, type) checked in order; ZIP and OLE containers are refined by extension/contents
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"PK\x03\x04", "zip"),
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF8", "gif"),
    (b"{\\rtf", "rtf"),
)
OLE_EXTS = ("doc", "xls", "ppt", "wps", "et", "dps")
ZIP_EXTS = ("docx", "xlsx", "pptx", "ofd", "zip")
#: extensions of pages; without magic bytes such a download is treated as HTML
HTML_EXTS = ("htm", "html", "shtml", "xhtml", "jsp", "asp", "aspx", "php", "do", "action")
_HTML_START = re.compile(rb"^\s*(?:<!doctype html|<html|<head|<body|<meta|<title|<!--)", re.I)


@dataclass(frozen=True)
class FileInfo:
    """What the crawler records about one downloaded attachment."""

    url: str
    name: str
    type: str
    size: int
    sha256: str | None
    status: int | None = None
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in `versions.attachments`."""
        return asdict(self)


def url_ext(url: str) -> str:
    """The lowercased extension of a URL path (`pdf`), or ''."""
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def sniff_type(body: bytes, url: str = "", declared: str | None = None) -> str:
    """The file type from magic bytes; the URL extension only refines containers (OLE, ZIP)."""
    ext = url_ext(url)
    for magic, kind in MAGIC:
        if body.startswith(magic):
            if kind == "ole":
                return ext if ext in OLE_EXTS else "doc"
            if kind == "zip":
                return _zip_kind(body, ext)
            return kind
    if _HTML_START.match(body[:512].removeprefix(b"\xef\xbb\xbf")):
        return "html"
    if ext in HTML_EXTS:
        return "html"
    if declared and "html" in declared.lower() and body.lstrip()[:1] == b"<":
        return "html"
    return ext or "bin"


def _zip_kind(body: bytes, ext: str) -> str:
    if ext in ZIP_EXTS:
        return ext
    try:
        names = zipfile.ZipFile(BytesIO(body)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return ext or "zip"
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    if "OFD.xml" in names:
        return "ofd"
    return "zip"


def is_html(body: bytes, content_type: str | None = None) -> bool:
    """True if a download is an HTML page by its bytes (a PDF sent as text/html is not)."""
    return sniff_type(body[:4096], "", content_type) in ("html", "bin") and not body.startswith(b"\x00")


def sha256(body: bytes) -> str:
    """Hex sha256 of the bytes."""
    return hashlib.sha256(body).hexdigest()


def _decode_bytes(raw: bytes) -> str:
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def filename_from_disposition(header: bytes | str | None) -> str | None:
    """The file name of a Content-Disposition header (RFC 5987 `filename*` first, then GBK/UTF-8)."""
    if not header:
        return None
    raw = header if isinstance(header, bytes) else header.encode("latin-1", "replace")
    star = re.search(rb"filename\*\s*=\s*([\w\-]+)'[^']*'([^;]+)", raw, re.I)
    if star:
        charset = star.group(1).decode("ascii", "replace")
        try:
            return unquote_to_bytes(star.group(2).strip().strip(b'"')).decode(charset)
        except (LookupError, UnicodeDecodeError):
            return _decode_bytes(unquote_to_bytes(star.group(2).strip()))
    plain = re.search(rb'filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)', raw, re.I)
    if not plain:
        return None
    value = (plain.group(1) if plain.group(1) is not None else plain.group(2)).strip()
    if b"%" in value:
        value = unquote_to_bytes(value)
    return _decode_bytes(value) or None


def filename_from_url(url: str) -> str:
    """The last path segment, percent-decoded (UTF-8, else GBK)."""
    segment = urlsplit(url).path.rsplit("/", 1)[-1]
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError:
        return _decode_bytes(unquote_to_bytes(segment))

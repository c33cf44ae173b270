"""Plain text in a Word (.docx) container: the one text-bearing format C2PA can sign here.

c2pa-python has no text/plain asset handler, so a bare ``.txt`` can carry neither an embedded
manifest nor a hash-bound sidecar. It does sign OOXML documents (the manifest goes into
``META-INF/content_credential.c2pa`` inside the ZIP), so generated text ships as ``.txt`` for
training plus a signed ``.docx`` twin, and uploaded ``.docx`` files are scanned like text: their
Content Credentials are read and their body text goes through the text detector and watermark.

Two constraints found by experiment with c2pa 0.38.1: the ZIP must use the *stored* method
(c2pa's ZIP reader refuses deflate: "compression method not supported: 8"), and the document part
needs only ``[Content_Types].xml``, ``_rels/.rels`` and ``word/document.xml`` to open in Word and
LibreOffice.
"""

from __future__ import annotations

import io
import os
import zipfile
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from detector.errors import DecodeError

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DOCUMENT = "word/document.xml"
# A document.xml larger than this is refused before parsing: a ZIP bomb must not exhaust memory.
MAX_DOCUMENT_BYTES = 64 << 20

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
# Fixed timestamp: the same text gives the same bytes (datasets are reproducible by hash).
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _paragraph(line: str) -> str:
    # xml:space="preserve" keeps leading/trailing spaces, which the text watermark's tokens need.
    return f'<w:p><w:r><w:t xml:space="preserve">{escape(line)}</w:t></w:r></w:p>'


def docx_bytes(text: str) -> bytes:
    """A minimal, deterministic .docx whose body is ``text`` (one paragraph per line)."""
    body = "".join(_paragraph(line) for line in text.split("\n"))
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{_W}"><w:body>{body}</w:body></w:document>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _RELS), (_DOCUMENT, document)):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_STORED
            z.writestr(info, data.encode("utf-8"))
    return buf.getvalue()


def is_docx(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a ZIP holding a WordprocessingML main document."""
    try:
        with zipfile.ZipFile(path) as z:
            return _DOCUMENT in z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _text_of(paragraph: ET.Element) -> str:
    parts: list[str] = []
    for el in paragraph.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "t" and el.text:
            parts.append(el.text)
        elif tag == "tab":
            parts.append("\t")
        elif tag in ("br", "cr"):
            parts.append("\n")
    return "".join(parts)


def read_docx_text(path: str | os.PathLike[str]) -> str:
    """The body text of a .docx, paragraphs joined by newlines.

    Raises:
        DecodeError: not a ZIP, no ``word/document.xml``, too large, or malformed XML.
    """
    try:
        with zipfile.ZipFile(path) as z:
            try:
                info = z.getinfo(_DOCUMENT)
            except KeyError:
                raise DecodeError("not a Word document: the ZIP has no word/document.xml") from None
            if info.file_size > MAX_DOCUMENT_BYTES:
                raise DecodeError(f"Word document body is too large ({info.file_size} bytes uncompressed)")
            with z.open(info) as fh:
                data = fh.read(MAX_DOCUMENT_BYTES + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise DecodeError(f"cannot read Word document: {exc}") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DecodeError("Word document body is too large")
    # DTDs have no place in WordprocessingML; refusing them rules out entity-expansion attacks.
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise DecodeError("Word document body declares a DTD/entities; refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise DecodeError(f"Word document body is not valid XML: {exc}") from None
    body = root.find(f"{{{_W}}}body")
    if body is None:
        return ""
    return "\n".join(_text_of(p) for p in body.iter(f"{{{_W}}}p"))


def stored_zip(data: bytes, *, max_total: int = 512 << 20) -> bytes:
    """``data`` (a ZIP) re-packed with every member stored, as c2pa's ZIP reader requires.

    Word and LibreOffice deflate their parts; the signed copy is a byte-different but
    content-identical document. Already-stored ZIPs come back unchanged.

    Raises:
        DecodeError: not a ZIP, or its members would inflate past ``max_total`` bytes.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as src:
            infos = src.infolist()
            if all(i.compress_type == zipfile.ZIP_STORED for i in infos):
                return data
            if sum(i.file_size for i in infos) > max_total:
                raise DecodeError("document is too large to re-pack for signing")
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as dst:
                for info in infos:
                    out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                    out.compress_type = zipfile.ZIP_STORED
                    out.external_attr = info.external_attr
                    dst.writestr(out, src.read(info))
            return buf.getvalue()
    except (zipfile.BadZipFile, ValueError, NotImplementedError) as exc:
        raise DecodeError(f"cannot read document: {exc}") from None

"""Sign media with a C2PA manifest that declares it AI-generated (c2pa.Builder, ES256, no TSA).

The manifest carries a ``c2pa.actions.v2`` assertion with one ``c2pa.created`` action (its
``digitalSourceType`` IRI and provscan as ``softwareAgent``), ``claim_generator_info`` naming
provscan, and, when the caller passes one, a ``c2pa.soft-binding`` assertion recording the
invisible watermark embedded in the same file, so a copy stripped of its manifest can be matched
back to it by the watermark.

No timestamp authority is used (offline): the signature is then judged against the certificate's
validity at reading time, so files signed with a certificate that has since expired read as
invalid. Operators who need long-lived signatures should sign with their own chain and a TSA.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import c2pa

from detector.docx import DOCX_MIME, stored_zip
from detector.errors import DecodeError, DetectorError, UnsupportedMediaError
from detector.media import sniff_bytes
from detector.provenance.keys import SigningKeyError, SigningPaths, load_signing

__all__ = [
    "SIGNABLE_MIME_TYPES",
    "SigningError",
    "TRAINED_ALGORITHMIC_MEDIA",
    "build_manifest",
    "sign_bytes",
    "sign_file",
]

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

# What provscan signs (checked against c2pa's Builder list at import: a c2pa build without one
# of them drops it here instead of failing at sign time). Plain text has no C2PA embedding; text
# is signed inside a .docx (detector/docx.py).
_WANTED = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/tiff",
    "image/avif",
    "image/heic",
    "audio/wav",
    "audio/flac",
    "audio/mpeg",
    "audio/mp4",
    "video/mp4",
    "video/quicktime",
    "video/x-msvideo",
    "application/pdf",
    DOCX_MIME,
)
_ALIASES = {
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-flac": "audio/flac",
    "audio/mp3": "audio/mpeg",
    "image/jpg": "image/jpeg",
}


def _signable() -> frozenset[str]:
    try:
        supported = set(c2pa.Builder.get_supported_mime_types())
    except c2pa.C2paError:
        supported = set()
    return frozenset(m for m in _WANTED if m in supported)


SIGNABLE_MIME_TYPES: frozenset[str] = _signable()


class SigningError(DetectorError):
    """The file cannot be signed (unsupported format, bad signing material, c2pa failure)."""


def build_manifest(
    *,
    mime: str,
    title: str | None = None,
    digital_source_type: str = TRAINED_ALGORITHMIC_MEDIA,
    generator: str = "provscan",
    generator_version: str = "0.1.0",
    soft_binding: dict[str, Any] | None = None,
    extra_assertions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The manifest definition (c2pa Builder JSON) that ``sign_file`` / ``sign_bytes`` use.

    Args:
        mime: Format of the asset.
        title: Shown by Content Credentials viewers (usually the file name).
        digital_source_type: IPTC digital source type IRI of the ``c2pa.created`` action.
        generator: Name for ``claim_generator_info`` and the action's ``softwareAgent``.
        generator_version: Its version.
        soft_binding: Watermark record: ``{"alg": str, "value": str, "scope"?: dict,
            "name"?: str, "url"?: str}`` (``value`` is the watermark payload as text, e.g. hex
            or base64), or a full C2PA soft-binding map with ``blocks``.
        extra_assertions: More ``{"label", "data"}`` assertions, appended as given.

    Returns:
        A JSON-serialisable dict.
    """
    agent = {"name": generator, "version": generator_version}
    created = {
        "action": "c2pa.created",
        "digitalSourceType": digital_source_type,
        "softwareAgent": agent,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    assertions: list[dict[str, Any]] = [{"label": "c2pa.actions.v2", "data": {"actions": [created]}}]
    if soft_binding is not None:
        assertions.append({"label": "c2pa.soft-binding", "data": _soft_binding_map(soft_binding)})
    assertions.extend(extra_assertions or [])
    manifest: dict[str, Any] = {
        "claim_generator_info": [agent],
        "format": mime,
        "assertions": assertions,
    }
    if title:
        manifest["title"] = title
    return manifest


def _soft_binding_map(sb: dict[str, Any]) -> dict[str, Any]:
    if "alg" not in sb:
        raise SigningError("soft_binding needs an 'alg' (e.g. com.provscan.watermark.image)")
    if "blocks" in sb:
        out = dict(sb)
    else:
        if "value" not in sb:
            raise SigningError("soft_binding needs a 'value' (the watermark payload as text)")
        out = {
            "alg": str(sb["alg"]),
            "blocks": [{"scope": dict(sb.get("scope") or {}), "value": str(sb["value"])}],
        }
        for k in ("name", "url"):
            if sb.get(k):
                out[k] = str(sb[k])
    # "pad" is a required (byte string) field of the soft-binding map; empty is allowed.
    out.setdefault("pad", [])
    return out


def _normalise_mime(mime: str) -> str:
    m = _ALIASES.get(mime.lower(), mime.lower())
    if m not in SIGNABLE_MIME_TYPES:
        raise SigningError(
            f"cannot sign {mime}: C2PA signing supports {', '.join(sorted(SIGNABLE_MIME_TYPES))}"
        )
    return m


def _stored_docx(data: bytes) -> bytes:
    try:
        return stored_zip(data)
    except DecodeError as exc:
        raise SigningError(f"cannot sign: {exc}") from None


def _sniff_mime(head: bytes) -> str:
    try:
        _, mime = sniff_bytes(head)
    except UnsupportedMediaError as exc:
        raise SigningError(f"cannot sign: {exc}") from None
    return _normalise_mime(mime)


_BUILD_CTX: c2pa.Context | None = None
_BUILD_LOCK = threading.Lock()


def _build_context() -> c2pa.Context:
    """Builder settings shared by every signing call (created once; c2pa guards sharing)."""
    global _BUILD_CTX
    with _BUILD_LOCK:
        if _BUILD_CTX is None or not _BUILD_CTX.is_valid:
            # No thumbnail: c2pa's default embeds a large preview (a 3 kB 64x64 WebP became
            # 1.3 MB), far more than a generated dataset item should carry.
            _BUILD_CTX = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
        return _BUILD_CTX


def _signer(paths: SigningPaths) -> c2pa.Signer:
    try:
        info = c2pa.C2paSignerInfo(paths.alg, paths.chain.read_bytes(), paths.key.read_bytes(), None)
        return c2pa.Signer.from_info(info)
    except (OSError, c2pa.C2paError) as exc:
        # c2pa's message names the problem, not the key bytes.
        raise SigningError(f"c2pa rejected the signing material in {paths.dir}: {exc}") from None


def _resolve(signing: str | Path | SigningPaths) -> SigningPaths:
    if isinstance(signing, SigningPaths):
        return signing
    try:
        return load_signing(signing)
    except SigningKeyError as exc:
        raise SigningError(str(exc)) from None


def _sign_stream(
    source: Any,
    dest: Any,
    *,
    mime: str,
    signing: SigningPaths,
    manifest: dict[str, Any],
) -> None:
    signer = _signer(signing)
    try:
        with c2pa.Builder(manifest, context=_build_context()) as builder:
            builder.sign(signer, mime, source, dest)
    except c2pa.C2paError as exc:
        raise SigningError(f"c2pa could not sign this {mime} file: {exc}") from None
    finally:
        signer.close()


def sign_file(
    src: str | Path,
    dst: str | Path,
    *,
    signing_dir: str | Path | SigningPaths,
    title: str | None = None,
    digital_source_type: str = TRAINED_ALGORITHMIC_MEDIA,
    generator: str = "provscan",
    generator_version: str = "0.1.0",
    soft_binding: dict[str, Any] | None = None,
    extra_assertions: list[dict[str, Any]] | None = None,
    mime: str | None = None,
) -> Path:
    """Sign ``src`` into ``dst`` with a manifest declaring it generated by ``generator``.

    ``dst`` is written atomically (temp file + rename), so it may equal ``src``.

    Args:
        src: Media file (JPEG, PNG, WebP, WAV, FLAC, MP3, MP4, PDF, ...; type from content).
        dst: Where the signed copy goes.
        signing_dir: Directory made by ``keys.init_signing``, or ``SigningPaths`` from
            ``keys.load_signing`` for an operator's own chain and key.
        title: Manifest title; defaults to ``dst``'s file name.
        digital_source_type: IPTC digital source type IRI.
        generator: Tool name recorded in the manifest.
        generator_version: Its version.
        soft_binding: Watermark record, see :func:`build_manifest`.
        extra_assertions: More assertions, see :func:`build_manifest`.
        mime: Format, if the caller already sniffed it.

    Returns:
        ``dst`` as a Path.

    Raises:
        SigningError: Unsupported format, unusable signing material, or c2pa failure.
    """
    src_p, dst_p = Path(src), Path(dst)
    try:
        with open(src_p, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise SigningError(f"cannot read {src_p}: {exc}") from None
    fmt = _normalise_mime(mime) if mime else _sniff_mime(head)
    paths = _resolve(signing_dir)
    manifest = build_manifest(
        mime=fmt,
        title=title or dst_p.name,
        digital_source_type=digital_source_type,
        generator=generator,
        generator_version=generator_version,
        soft_binding=soft_binding,
        extra_assertions=extra_assertions,
    )
    dst_p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst_p.parent, prefix=f".{dst_p.name}.", suffix=".part")
    try:
        with open(src_p, "rb") as source, os.fdopen(fd, "w+b") as out:
            src_stream: Any = io.BytesIO(_stored_docx(source.read())) if fmt == DOCX_MIME else source
            _sign_stream(src_stream, out, mime=fmt, signing=paths, manifest=manifest)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst_p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return dst_p


def sign_bytes(
    data: bytes,
    mime: str | None = None,
    *,
    signing_dir: str | Path | SigningPaths,
    title: str | None = None,
    digital_source_type: str = TRAINED_ALGORITHMIC_MEDIA,
    generator: str = "provscan",
    generator_version: str = "0.1.0",
    soft_binding: dict[str, Any] | None = None,
    extra_assertions: list[dict[str, Any]] | None = None,
) -> bytes:
    """Like :func:`sign_file` for bytes in memory; returns the signed bytes.

    Args:
        data: The media bytes.
        mime: Their format; sniffed from the bytes when None.
        signing_dir: See :func:`sign_file`.
        title: Manifest title.
        digital_source_type: IPTC digital source type IRI.
        generator: Tool name recorded in the manifest.
        generator_version: Its version.
        soft_binding: Watermark record, see :func:`build_manifest`.
        extra_assertions: More assertions, see :func:`build_manifest`.

    Raises:
        SigningError: Unsupported format, unusable signing material, or c2pa failure.
    """
    fmt = _normalise_mime(mime) if mime else _sniff_mime(data[:4096])
    paths = _resolve(signing_dir)
    manifest = build_manifest(
        mime=fmt,
        title=title,
        digital_source_type=digital_source_type,
        generator=generator,
        generator_version=generator_version,
        soft_binding=soft_binding,
        extra_assertions=extra_assertions,
    )
    out = io.BytesIO()
    if fmt == DOCX_MIME:
        data = _stored_docx(data)
    _sign_stream(io.BytesIO(data), out, mime=fmt, signing=paths, manifest=manifest)
    return out.getvalue()

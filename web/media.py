"""Serving a scan's stored bytes back (for the evidence views) without opening an XSS hole.

The blob is whatever a user uploaded. Its type is sniffed from the bytes (never the upload's
name or a client header), ``nosniff`` stops the browser from guessing otherwise, and only image
and audio types are ``inline``: anything else (text, video, HTML, SVG, PDF, unknown) is an
attachment, and a sandbox CSP covers the case of someone opening the URL directly.
"""

from __future__ import annotations

from typing import Any

from flask import Response, send_file

from detector.errors import UnsupportedMediaError
from detector.media import load_text, sniff_file
from worker.service import Context, ServiceError
from worker.store import Scan

# SVG is an image/* type that runs script: never inline.
_NEVER_INLINE = {"image/svg+xml"}
# The dashboard shows at most this much text; the detectors' highlights cover far less (the
# first 600 tokens), so a longer file is cut for display, not for analysis.
MAX_DISPLAY_CHARS = 200_000


def _scan_with_blob(ctx: Context, scan_id: str) -> tuple[Scan, Any]:
    scan = ctx.store.get_scan(scan_id)
    if scan is None:
        raise ServiceError("not_found", f"no scan with id {scan_id}", 404)
    if not scan.sha256:  # empty or refused uploads keep no bytes
        raise ServiceError("no_media", "this scan has no stored media", 404)
    path = ctx.blobs.path_for(scan.sha256)
    if not path.is_file():
        raise ServiceError("no_media", "the stored media is no longer available", 404)
    return scan, path


def sniffed_mime(path: Any) -> str:
    try:
        return sniff_file(path)[1]
    except (UnsupportedMediaError, OSError):
        return "application/octet-stream"


def media_response(ctx: Context, scan_id: str) -> Response:
    scan, path = _scan_with_blob(ctx, scan_id)
    mime = sniffed_mime(path)
    inline = mime.split("/")[0] in ("image", "audio") and mime not in _NEVER_INLINE
    # conditional=True answers Range requests: the <audio> player seeks with them. With a
    # download_name, send_file writes Content-Disposition: inline or attachment accordingly.
    resp = send_file(path, mimetype=mime, as_attachment=not inline, download_name=scan.filename or "media",
                     conditional=True, max_age=0)
    return _locked_down(resp)


def _locked_down(resp: Response) -> Response:
    """Headers every response carrying uploaded media gets: no type guessing, no script, no caching."""
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp


# Image types every current browser draws; the others (TIFF, HEIC / HEIF) are shown as a JPEG of
# the pixels the detectors saw, so the reviewer sees the picture and its heatmap, not a broken icon.
BROWSER_IMAGES = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp"}


def image_response(ctx: Context, scan_id: str) -> Response:
    """The scanned image as the dashboard draws it: the stored bytes when a browser can show them,
    else a JPEG rendering of the decoded pixels (same size and orientation as the detectors saw)."""
    import io

    from PIL import Image

    from detector.errors import DecodeError
    from detector.media import load_image

    _, path = _scan_with_blob(ctx, scan_id)
    mime = sniffed_mime(path)
    if mime in BROWSER_IMAGES or not mime.startswith("image/"):
        return media_response(ctx, scan_id)
    try:
        pixels = load_image(path)
    except DecodeError as exc:
        raise ServiceError("undecodable", f"the stored image cannot be decoded: {exc}", 422) from None
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=90)
    return _locked_down(Response(buf.getvalue(), mimetype="image/jpeg"))


def text_view(ctx: Context, scan_id: str) -> dict[str, Any]:
    """The text a text scan's evidence offsets refer to, plus its word spans.

    Detector highlights use offsets into the original text when normalising it (NFKC,
    case-folding) keeps its length, and into the normalised text otherwise
    (``detector.text.tokenize.word_spans``); this returns whichever one that is, so the
    dashboard can colour words exactly. ``words[i]`` is the i-th word, the same order as the text
    watermark's ``token_map``. Offsets count Unicode code points.
    """
    from detector.errors import DecodeError
    from detector.text.tokenize import normalize, word_spans

    scan, path = _scan_with_blob(ctx, scan_id)
    if scan.media_type != "text":
        raise ServiceError("not_text", "this scan is not a text file", 400)
    try:
        text = load_text(path)
    except DecodeError as exc:
        raise ServiceError("undecodable", str(exc), 422) from None
    norm = normalize(text)
    shown = text if len(norm) == len(text) else norm
    truncated = len(shown) > MAX_DISPLAY_CHARS
    shown = shown[:MAX_DISPLAY_CHARS]
    words = [[a, b] for _w, a, b in word_spans(text) if b <= len(shown)]
    return {"text": shown, "normalized": len(norm) != len(text), "truncated": truncated,
            "words": words}

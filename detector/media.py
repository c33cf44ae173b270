"""Sniff media type from content (never the extension) and decode images, audio, text, video.

Decoders raise ``DecodeError`` with a message a user can act on; the pipeline turns that into a
report with ``status: "error"``.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from detector.docx import DOCX_MIME, is_docx, read_docx_text
from detector.errors import DecodeError, UnsupportedMediaError
from detector.types import MediaItem

# (magic bytes at offset, offset, mime, media type). Order matters: specific before generic.
_MAGIC: list[tuple[bytes, int, str, str]] = [
    (b"\xff\xd8\xff", 0, "image/jpeg", "image"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "image"),
    (b"GIF87a", 0, "image/gif", "image"),
    (b"GIF89a", 0, "image/gif", "image"),
    (b"BM", 0, "image/bmp", "image"),
    (b"II*\x00", 0, "image/tiff", "image"),
    (b"MM\x00*", 0, "image/tiff", "image"),
    (b"fLaC", 0, "audio/flac", "audio"),
    (b"OggS", 0, "audio/ogg", "audio"),
    (b"ID3", 0, "audio/mpeg", "audio"),
    (b"%PDF-", 0, "application/pdf", "document"),
    (b"\x1aE\xdf\xa3", 0, "video/webm", "video"),
]

TEXT_MIN_PRINTABLE = 0.97
SNIFF_BYTES = 4096


def sha256_file(path: str | os.PathLike[str], *, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sniff_bytes(head: bytes) -> tuple[str, str]:
    """Return ``(media_type, mime)`` for the first bytes of a file.

    Raises:
        UnsupportedMediaError: empty input or an unknown binary format.
    """
    if not head:
        raise UnsupportedMediaError("empty file")
    for magic, off, mime, kind in _MAGIC:
        if head[off : off + len(magic)] == magic:
            return _check_supported(kind, mime)
    if head[:4] == b"RIFF" and len(head) >= 12:
        sub = head[8:12]
        if sub == b"WAVE":
            return "audio", "audio/wav"
        if sub == b"WEBP":
            return "image", "image/webp"
        if sub == b"AVI ":
            return "video", "video/x-msvideo"
    if _utf16_text(head) is not None:
        # Before the MPEG frame-sync test: a UTF-16 LE BOM (FF FE) looks like an MPEG frame header,
        # and Windows Notepad's "Unicode" text files start with it.
        return "text", "text/plain"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "image", "image/avif"
        if brand in (b"heic", b"heix", b"mif1", b"msf1"):
            return "image", "image/heic"
        if brand.startswith(b"M4A"):
            return "audio", "audio/mp4"
        return "video", "video/mp4"
    # MPEG audio frame sync without an ID3 tag.
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "audio", "audio/mpeg"
    if head[:4] == b"PK\x03\x04":
        # Only the head is here: Word writes [Content_Types].xml first. sniff_file() opens the ZIP
        # for the definitive answer.
        if b"[Content_Types].xml" in head[:64] or b"word/" in head:
            return "text", DOCX_MIME
        raise UnsupportedMediaError("ZIP archives are not analysed (only Word .docx documents)")
    if _looks_like_text(head):
        return "text", "text/plain"
    raise UnsupportedMediaError("unsupported or unrecognised file format (not an image, audio, video or text file)")


def sniff_file(path: str | os.PathLike[str]) -> tuple[str, str]:
    """Like :func:`sniff_bytes` for a file on disk; ZIPs are opened to tell .docx from other archives."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    if head[:4] == b"PK\x03\x04":
        if is_docx(path):
            return "text", DOCX_MIME
        raise UnsupportedMediaError("ZIP archives are not analysed (only Word .docx documents)")
    kind, mime = sniff_bytes(head)
    if (kind, mime) == ("video", "video/mp4") and b"soun" in (h := _mp4_handlers(path)) and b"vide" not in h:
        # An MP4 of sound only (a voice memo or podcast saved as .mp4, not as an M4A brand): it is
        # audio, and the video decoder would only say "cannot open video".
        return "audio", "audio/mp4"
    if (kind, mime) == ("video", "video/webm") and _stream_types(path) == {"audio"}:
        # WebM / Matroska of sound only: what a browser's MediaRecorder makes of a voice message.
        return "audio", "audio/webm"
    return kind, mime


def _stream_types(path: str | os.PathLike[str]) -> set[str] | None:
    """Codec types of a media file's streams ({"video", "audio", ...}) from ffprobe; None without it."""
    import shutil
    import subprocess

    if shutil.which("ffprobe") is None:
        return None
    try:
        res = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                              str(path)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {line.strip() for line in res.stdout.splitlines() if line.strip()} if res.returncode == 0 else None


def _mp4_handlers(path: str | os.PathLike[str], limit: int = 64) -> set[bytes]:
    """Handler types of an ISO-BMFF file's tracks (``hdlr`` boxes: b"vide", b"soun", ...).

    The ``moov`` box may sit at the end of the file, so the whole file is searched (memory-mapped);
    a stray b"hdlr" in media data can only add a type, so a file is read as audio only when no
    video handler turns up anywhere."""
    import mmap

    found: set[bytes] = set()
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size < 16:
            return found
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            i = m.find(b"hdlr")
            while i != -1 and len(found) < limit:
                # box: size, "hdlr", version+flags, pre_defined, handler_type
                found.add(bytes(m[i + 12 : i + 16]))
                i = m.find(b"hdlr", i + 4)
    return found


def _check_supported(kind: str, mime: str) -> tuple[str, str]:
    if kind == "document":
        raise UnsupportedMediaError(f"{mime} documents are not analysed (only images, audio, video and text)", mime=mime)
    return kind, mime


def _utf16_text(head: bytes) -> str | None:
    """The text of a head that starts with a UTF-16 byte-order mark and decodes as printable text."""
    if head[:2] not in (b"\xff\xfe", b"\xfe\xff") or len(head) < 4:
        return None
    body = head[2 : len(head) - len(head) % 2]
    codec = "utf-16-le" if head[:2] == b"\xff\xfe" else "utf-16-be"
    for cut in (0, 2):  # a surrogate pair may be cut at the end of the sniff window
        try:
            text = body[: len(body) - cut].decode(codec)
        except UnicodeDecodeError:
            continue
        if text.strip() and sum(ch.isprintable() or ch in "\n\r\t" for ch in text) / len(text) >= TEXT_MIN_PRINTABLE:
            return text
        return None
    return None


# Text that is not UTF-8: Windows-1252 (a superset of Latin-1 for printable text), what older
# Western-European Windows files are written in. Binary data rarely decodes in it without NULs and
# with few bytes above 0x7F, which is what a Latin text has (accents only).
LEGACY_TEXT_CODEC = "cp1252"
LEGACY_MAX_HIGH_BYTES = 0.15


def _legacy_text(data: bytes) -> str | None:
    """``data`` decoded as Windows-1252 when it reads as such a text (see LEGACY_TEXT_CODEC), else None."""
    if not data or b"\x00" in data or sum(b >= 0x80 for b in data) / len(data) > LEGACY_MAX_HIGH_BYTES:
        return None
    try:
        return data.decode(LEGACY_TEXT_CODEC)
    except UnicodeDecodeError:
        return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character may be cut at the end of the sniff window.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            text = _legacy_text(head)
            if text is None:
                return False
    if not text.strip():
        return False
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    return printable / len(text) >= TEXT_MIN_PRINTABLE


def sniff(path: str | os.PathLike[str], *, filename: str | None = None, sha256: str | None = None) -> MediaItem:
    """Build a ``MediaItem`` for a file on disk (type from content)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        with open(p, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError as exc:
        raise UnsupportedMediaError(f"cannot read file: {exc.strerror or exc}") from None
    container = head[:4] in (b"PK\x03\x04", b"\x1aE\xdf\xa3") or head[4:8] == b"ftyp"
    media_type, mime = sniff_file(p) if container else sniff_bytes(head)
    return MediaItem(
        path=str(p),
        filename=filename or p.name,
        sha256=sha256 or sha256_file(p),
        media_type=media_type,  # type: ignore[arg-type]
        mime=mime,
        size=size,
    )


def load_image(path: str | os.PathLike[str], *, max_pixels: int = 80_000_000) -> np.ndarray:
    """Decode an image to an RGB uint8 array (H, W, 3), fully (truncated files are errors)."""
    from PIL import Image, UnidentifiedImageError

    _register_heif()
    # Decompression bombs are bad input, not a reason to exhaust the worker's memory.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with Image.open(path) as im:
            w, h = im.size
            if w == 0 or h == 0:
                raise DecodeError("image has zero width or height")
            im.load()  # forces a full decode: truncated data raises here
            arr = _to_rgb8(im)
    except DecodeError:
        raise
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"image too large to decode safely: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DecodeError(f"cannot decode image (corrupt or truncated): {exc}") from None
    if arr.ndim != 3 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DecodeError("image has zero width or height")
    return arr


def _register_heif() -> None:
    """Teach Pillow HEIC / HEIF (iPhone photos), once; without pillow-heif such files stay a clear
    decode error rather than an import failure."""
    global _HEIF_READY
    if _HEIF_READY is None:
        try:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _HEIF_READY = True
        except ImportError:
            _HEIF_READY = False


_HEIF_READY: bool | None = None


def _to_rgb8(im: Any) -> np.ndarray:
    """RGB uint8 of a decoded PIL image. Pillow's own conversion clips high-bit-depth grey (16-bit
    PNG, 32-bit integer or float TIFF) at 255, which turns a 16-bit scan almost white: those are
    scaled to 0-255 instead (16-bit by 257, other ranges by their maximum)."""
    if im.mode.startswith("I") or im.mode == "F":
        a = np.asarray(im).astype(np.float64)
        if im.mode.startswith("I;16"):
            a = a / 257.0
        elif im.mode == "F" and a.size and np.nanmax(a) <= 1.0:
            a = a * 255.0
        elif a.size and np.nanmax(a) > 255:
            a = a * (255.0 / np.nanmax(a)) if np.nanmax(a) > 65535 else a / 257.0
        g = np.clip(np.nan_to_num(np.round(a)), 0, 255).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2)
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


def load_audio(path: str | os.PathLike[str], *, sr: int | None = None, mono: bool = True) -> tuple[np.ndarray, int]:
    """Decode audio to float32 in -1..1 (mono by default), optionally resampled to ``sr``."""
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as sf_exc:  # soundfile lacks MP3 on old libsndfile / MP4 audio: try librosa
        try:
            import librosa

            # The audioread fallback (ffmpeg) is the point here (M4A/AAC); its deprecation
            # warning would otherwise land in every CLI scan's output.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", (UserWarning, FutureWarning, DeprecationWarning))
                y, rate = librosa.load(str(path), sr=None, mono=False)
            data = np.atleast_2d(y).T.astype(np.float32)
        except Exception as exc:
            raise DecodeError(f"cannot decode audio: {sf_exc}; {exc}") from None
    if data.size == 0:
        raise DecodeError("audio has no samples")
    y = data.mean(axis=1) if mono else data.T
    if sr is not None and sr != rate:
        import librosa

        y = librosa.resample(y, orig_sr=rate, target_sr=sr)
        rate = sr
    return np.ascontiguousarray(y, dtype=np.float32), int(rate)


def load_text(path: str | os.PathLike[str], *, max_chars: int = 2_000_000) -> str:
    """UTF-8 text of a plain-text file, or the body text of a Word .docx (sniffed by content)."""
    try:
        with open(path, "rb") as f:
            is_zip = f.read(4) == b"PK\x03\x04"
    except OSError as exc:
        raise DecodeError(f"cannot read text: {exc}") from None
    if is_zip:
        text = read_docx_text(path)
        if not text.strip():
            raise DecodeError("Word document has no text")
        return text[:max_chars]
    try:
        raw = Path(path).read_bytes()[: max_chars * 4]
        # UTF-16 with a byte-order mark (Windows "Unicode" text), else UTF-8 (a BOM is dropped).
        utf16 = raw[:2] in (b"\xff\xfe", b"\xfe\xff")
        if utf16:
            text = raw[: len(raw) - len(raw) % 2].decode("utf-16")
        else:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                legacy = _legacy_text(raw)
                if legacy is None:
                    raise
                text = legacy
    except UnicodeDecodeError as exc:
        raise DecodeError(f"text is not valid {'UTF-16' if utf16 else 'UTF-8 or Windows-1252'}: {exc}") from None
    except OSError as exc:
        raise DecodeError(f"cannot read text: {exc}") from None
    if not text.strip():
        raise DecodeError("text file is empty")
    return text[:max_chars]


def load_video_frames(path: str | os.PathLike[str], *, max_frames: int = 16) -> tuple[list[np.ndarray], float]:
    """Sample up to ``max_frames`` RGB frames evenly; returns (frames, fps)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise DecodeError("cannot open video")
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        idx = np.linspace(0, max(n - 1, 0), num=min(max_frames, max(n, 1))).astype(int) if n > 0 else [0]
        frames = []
        for i in idx:
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(i))
            ok, frame = cap.read()
            if ok and frame is not None:
                frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        if not frames:
            raise DecodeError("video has no decodable frames")
        return frames, fps
    finally:
        cap.release()

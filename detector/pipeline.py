"""analyze(path) -> Report: sniff, provenance (C2PA, metadata), watermarks, detectors, fusion.

Pure library code: the Celery task, the CLI and the benchmarks all call ``analyze``. Bad input
never raises: it yields a Report with ``status="error"`` and a message a user can act on. A
detector that crashes yields a Finding with ``status="error"``; the scan still completes.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from detector import media
from detector.base import DETECTORS, VideoSignal
from detector.errors import DetectorError
from detector.fusion import fuse
from detector.settings import Settings
from detector.types import C2PAResult, Finding, MediaItem, Report, WatermarkResult, to_jsonable
from detector.watermark.base import WATERMARKS

log = logging.getLogger(__name__)

# Modules whose import registers detectors / watermark schemes. Listed explicitly (not discovered)
# so a typo fails loudly instead of silently dropping a detector.
PLUGIN_MODULES = (
    "detector.heuristics",
    "detector.image.residual",
    "detector.audio.cnn",
    "detector.text.detector",
    "detector.watermark.image",
    "detector.watermark.audio",
    "detector.watermark.text",
    "detector.watermark.public",
)

_plugins_lock = threading.Lock()
_plugins_loaded = False


def load_plugins() -> None:
    global _plugins_loaded
    with _plugins_lock:
        if _plugins_loaded:
            return
        for mod in PLUGIN_MODULES:
            importlib.import_module(mod)
        _plugins_loaded = True


WATERMARK_MODALITY = {"image": "image", "audio": "audio", "text": "text"}


@functools.lru_cache(maxsize=8)
def _detectors(modality: str, models_dir: str) -> tuple[Any, ...]:
    load_plugins()
    out = []
    for name in DETECTORS.list(modality=modality):
        try:
            out.append(DETECTORS.create(name, models_dir=Path(models_dir)))
        except DetectorError as exc:
            out.append(_Unavailable(name, modality, str(exc)))
    return tuple(out)


@functools.lru_cache(maxsize=8)
def _schemes(modality: str, key: str) -> tuple[Any, ...]:
    load_plugins()
    return tuple(WATERMARKS.create(n, key=key) for n in WATERMARKS.list(modality=modality))


class _Unavailable:
    """Stands in for a detector whose model cannot be loaded, so the report says why."""

    version = "unavailable"

    def __init__(self, name: str, modality: str, reason: str) -> None:
        self.name, self.modality, self.reason = name, modality, reason

    def analyze(self, item: MediaItem, signal: Any) -> Finding:
        return Finding(self.name, self.version, None, "skipped", {"reason": self.reason})


@functools.lru_cache(maxsize=8)
def _thresholds(modality: str, models_dir: str) -> dict[str, float]:
    """Verdict thresholds published in the detectors' cards (detector/eval/threshold.py)."""
    from detector.eval.threshold import read_from_card

    out = {}
    for d in _detectors(modality, models_dir):
        value = read_from_card(Path(models_dir) / "detectors" / f"{d.name}.yaml")
        if value is not None:
            out[d.name] = value
    return out


def _calibrated(modality: str) -> set[str]:
    return {n for n in DETECTORS.list(modality=modality) if DETECTORS.tags(n).get("calibrated")}


def c2pa_version() -> str:
    try:
        from importlib.metadata import version

        return version("c2pa-python")
    except Exception:  # pragma: no cover - metadata missing in odd installs
        return "unknown"


def _file_digest(path: Path | None) -> str | None:
    if path is None or not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def model_versions(settings: Settings, modality: str | None = None) -> dict[str, str]:
    """Everything that changes a report for the same bytes: detector, scheme and library versions.

    Used as the idempotency key: same sha256 + same versions => same report.
    """
    modalities = [modality] if modality else ["image", "audio", "text", "video"]
    out: dict[str, str] = {"pipeline": "0.1.0", "c2pa-python": c2pa_version()}
    for m in modalities:
        for d in _detectors(m, str(settings.models_dir)):
            out[d.name] = d.version
        wm = WATERMARK_MODALITY.get(m)
        if wm:
            for s in _schemes(wm, settings.watermark_key):
                out[f"watermark:{s.name}"] = str(getattr(s, "version", "1"))
    trust = _file_digest(settings.trust_anchors)
    if trust:
        out["trust_anchors"] = trust
    return out


def models_key(versions: dict[str, str]) -> str:
    blob = "\n".join(f"{k}={versions[k]}" for k in sorted(versions))
    return hashlib.sha256(blob.encode()).hexdigest()


def _read_c2pa(item: MediaItem, settings: Settings) -> C2PAResult:
    from detector.provenance.c2pa import read_c2pa

    try:
        return read_c2pa(item.path, mime=item.mime, trust_anchors=settings.trust_anchors)
    except Exception as exc:  # the reader promises not to raise; never let provenance kill a scan
        log.exception("c2pa reader failed")
        return C2PAResult(present=False, error=f"C2PA reader failed: {exc}")


def _read_metadata(item: MediaItem) -> dict[str, Any]:
    from detector.provenance.metadata import read_metadata

    try:
        return read_metadata(item.path, mime=item.mime)
    except Exception as exc:
        return {"error": f"metadata reader failed: {exc}"}


def _decode(item: MediaItem) -> Any:
    if item.media_type == "image":
        return media.load_image(item.path)
    if item.media_type == "audio":
        return media.load_audio(item.path)
    if item.media_type == "text":
        return media.load_text(item.path)
    if item.media_type == "video":
        frames, fps = media.load_video_frames(item.path)
        n = len(frames)
        times = [i / fps if fps else float(i) for i in range(n)]
        return VideoSignal(frames=frames, fps=fps, frame_times=times)
    raise DetectorError(f"no decoder for {item.media_type}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def analyze(
    path: str | Path,
    *,
    filename: str | None = None,
    sha256: str | None = None,
    scan_id: str | None = None,
    settings: Settings | None = None,
) -> Report:
    """Analyse one file and return its full Report.

    Args:
        path: File on disk.
        filename: Name to show (defaults to the path's name); never used to pick the type.
        sha256: Known digest (skips re-hashing).
        scan_id: Report id (a new uuid when None).
        settings: Instance settings (``Settings.from_env()`` when None).
    """
    settings = settings or Settings.from_env()
    load_plugins()
    rid = scan_id or uuid.uuid4().hex
    path = Path(path)
    fname = filename or path.name
    t0 = time.perf_counter()
    try:
        item = media.sniff(path, filename=fname, sha256=sha256)
    except DetectorError as exc:
        digest = sha256 or (media.sha256_file(path) if path.is_file() else "")
        prov: dict[str, Any] = {}
        mime = getattr(exc, "mime", None)
        if mime:  # recognised but not analysed (PDF): its Content Credentials are still worth showing
            doc = MediaItem(str(path), fname, digest, "text", mime, path.stat().st_size)
            prov["c2pa"] = to_jsonable(_read_c2pa(doc, settings))
        return Report(rid, digest, fname, None, "error", str(exc), None, prov, [], model_versions(settings), _now())

    versions = model_versions(settings, item.media_type)
    # Plain text cannot carry a manifest; a .docx (text in a signed container) can.
    c2pa = _read_c2pa(item, settings) if item.mime != "text/plain" else C2PAResult(present=False)
    provenance: dict[str, Any] = {"c2pa": to_jsonable(c2pa), "watermarks": [], "metadata": _read_metadata(item)}

    try:
        signal = _decode(item)
    except DetectorError as exc:
        return Report(rid, item.sha256, fname, item.media_type, "error", str(exc), None, provenance, [], versions, _now())
    except Exception as exc:  # decoders are third-party code: treat anything as a decode error
        log.exception("decoder crashed")
        return Report(rid, item.sha256, fname, item.media_type, "error", f"cannot decode file: {exc}", None,
                      provenance, [], versions, _now())

    marks: list[WatermarkResult] = []
    wm_modality = WATERMARK_MODALITY.get(item.media_type)
    if wm_modality:
        for scheme in _schemes(wm_modality, settings.watermark_key):
            try:
                marks.append(scheme.detect(signal))
            except Exception as exc:
                log.exception("watermark %s failed", scheme.name)
                marks.append(WatermarkResult(scheme.name, False, 0.0, None, None, {"error": str(exc)}))
    provenance["watermarks"] = [to_jsonable(m) for m in marks]

    findings: list[Finding] = []
    for det in _detectors(item.media_type, str(settings.models_dir)):
        try:
            findings.append(det.analyze(item, signal))
        except Exception as exc:
            log.exception("detector %s failed", det.name)
            findings.append(Finding(det.name, det.version, None, "error", {"error": f"{type(exc).__name__}: {exc}"}))

    thresholds = _thresholds(item.media_type, str(settings.models_dir))
    verdict = fuse(c2pa, marks, findings, calibrated=_calibrated(item.media_type), thresholds=thresholds)
    provenance["elapsed_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return Report(rid, item.sha256, fname, item.media_type, "done", None, verdict, provenance, findings, versions, _now())

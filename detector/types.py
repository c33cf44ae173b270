"""Result types shared by the pipeline, the store and the API: frozen and JSON-serialisable."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

MediaType = Literal["image", "audio", "text", "video"]
Status = Literal["queued", "running", "done", "error"]
FindingStatus = Literal["ok", "error", "skipped"]
Label = Literal["synthetic", "authentic", "inconclusive"]


@dataclass(frozen=True)
class MediaItem:
    """A file to analyse, after sniffing.

    Attributes:
        path: Where the bytes are on disk (a blob or the user's file).
        filename: The name the user gave it (display only; never trusted for the type).
        sha256: Hex digest of the bytes.
        media_type: Sniffed from the content, not from the extension.
        mime: Sniffed MIME type, e.g. ``image/jpeg``.
        size: Bytes.
    """

    path: str
    filename: str
    sha256: str
    media_type: MediaType
    mime: str
    size: int


@dataclass(frozen=True)
class Finding:
    """One detector's opinion on one item. ``score`` is P(synthetic) in 0..1, or None."""

    name: str
    version: str
    score: float | None
    status: FindingStatus = "ok"
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WatermarkResult:
    """``{"scheme", "detected", "score", "payload"}`` plus optional detail.

    ``score`` is a confidence in 0..1 (1 - p-value where the scheme has one).
    """

    scheme: str
    detected: bool
    score: float
    payload: str | None = None
    p_value: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class C2PAResult:
    present: bool
    state: str | None = None
    failures: list[str] = field(default_factory=list)
    signer: str | None = None
    digital_source_type: str | None = None
    claim_generator: list[str] = field(default_factory=list)
    remote_url: str | None = None
    error: str | None = None
    explanation: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    ingredients: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    label: Label
    score: float
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    id: str
    sha256: str
    filename: str
    media_type: str | None
    status: Status
    error: str | None
    verdict: Verdict | None
    provenance: dict[str, Any]
    detectors: list[Finding]
    models: dict[str, str]
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


def to_jsonable(obj: Any) -> Any:
    """Dataclasses (nested) → plain dicts/lists, ready for ``json.dumps``."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return obj.item()
    return obj

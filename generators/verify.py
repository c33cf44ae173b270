"""Check a generated dataset the way a scanner would see it: is every synthetic item's C2PA
manifest valid and does it declare AI, and does our own detector code find the watermark?

    provscan dataset verify DIR [--json]
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from detector.fusion import AI_SOURCE_TYPES, source_type_name
from detector.settings import Settings
from generators.dataset import load_labels

SCHEME_MODALITY = {"image": "image", "voice": "audio", "text": "text"}


@dataclass
class GeneratorTally:
    items: int = 0
    c2pa_valid: int = 0
    c2pa_declares_ai: int = 0
    watermark_detected: int = 0
    payload_recovered: int = 0
    failures: list[str] = field(default_factory=list)


def _decode(path: Path, modality: str) -> Any:
    from detector import media

    if modality == "image":
        return media.load_image(path)
    if modality == "voice":
        return media.load_audio(path)
    return media.load_text(path)


def verify_dataset(out: Path, *, settings: Settings | None = None, progress: bool = True) -> dict[str, GeneratorTally]:
    """Per-generator counts of valid manifests and detected watermarks for synthetic items."""
    from detector.pipeline import load_plugins
    from detector.provenance.c2pa import read_c2pa
    from detector.watermark.base import WATERMARKS

    settings = settings or Settings.from_env()
    load_plugins()
    tallies: dict[str, GeneratorTally] = defaultdict(GeneratorTally)
    schemes: dict[str, Any] = {}
    recs = [r for r in load_labels(out) if r.get("label") != "real"]
    for rec in tqdm(recs, desc="verify", unit="item", file=sys.stderr, disable=not progress):
        t = tallies[rec["generator"]]
        t.items += 1
        path = Path(out) / rec["file"]
        modality = rec["modality"]
        if rec.get("c2pa") is True:
            # Text items carry their manifest in a signed .docx twin (c2pa_file): check that the
            # twin holds exactly the item's text, else the manifest would vouch for other words.
            signed = Path(out) / rec["c2pa_file"] if rec.get("c2pa_file") else path
            if signed != path and _decode(signed, modality) != _decode(path, modality):
                t.failures.append(f"{rec['c2pa_file']}: text differs from {rec['file']}")
            c = read_c2pa(signed, trust_anchors=settings.signing_dir / "ca.pem")
            if c.state in ("Valid", "Trusted"):
                t.c2pa_valid += 1
            else:
                t.failures.append(f"{rec['file']}: C2PA {c.state} {c.failures} {c.error or ''}")
            if source_type_name(c.digital_source_type) in AI_SOURCE_TYPES:
                t.c2pa_declares_ai += 1
        wm = rec.get("watermark")
        if wm:
            name = wm["scheme"]
            if name not in schemes:
                schemes[name] = WATERMARKS.create(name, key=settings.watermark_key)
            r = schemes[name].detect(_decode(path, modality))
            if r.detected:
                t.watermark_detected += 1
            else:
                t.failures.append(f"{rec['file']}: watermark not detected (p={r.p_value})")
            if wm.get("payload") and r.payload == wm["payload"]:
                t.payload_recovered += 1
    return dict(tallies)


def table(tallies: dict[str, GeneratorTally]) -> str:
    rows = ["| generator | items | C2PA valid | declares AI | watermark detected | payload recovered |",
            "|---|---|---|---|---|---|"]
    for name, t in sorted(tallies.items()):
        rows.append(f"| {name} | {t.items} | {t.c2pa_valid} | {t.c2pa_declares_ai} | {t.watermark_detected} | "
                    f"{t.payload_recovered} |")
    return "\n".join(rows)

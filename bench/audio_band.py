"""How often does the audio CNN's narrow-band caveat fire? (issue #5, telephone audio)

``detector.audio.features.narrow_band``: a clip counts as narrow band when it was sampled at
<= 8.4 kHz or less than ``PHONE_BAND_SHARE`` of its power lies above 4.2 kHz. This counts, per
label and generator / real source, the test clips of each dataset that trip it and the smallest
upper-band share seen; ``--reencode N`` also re-encodes the first N clips of each set as a
forwarded call would be (44.1 kHz MP3 128k, 48 kHz AAC 96k, 48 kHz Opus 32k) and reports the
largest share left (codec noise must stay under the cut-off for phone audio to keep its caveat).

    python -m bench.audio_band --data data/datasets/audio-eval-seed1 --data data/datasets/audio-phone-seed1 \\
        --reencode 40 --out docs/eval/audio_confound/band.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

REENCODINGS = {
    "mp3_44k_128k": ["-ar", "44100", "-b:a", "128k", "x.mp3"],
    "aac_48k_96k": ["-ar", "48000", "-c:a", "aac", "-b:a", "96k", "x.m4a"],
    "opus_48k_32k": ["-ar", "48000", "-c:a", "libopus", "-b:a", "32k", "x.ogg"],
}


def _reencoded(path: Path, how: list[str]) -> tuple[np.ndarray, int]:
    from detector import media

    with tempfile.TemporaryDirectory() as td:
        out = Path(td) / how[-1]
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(path), *how[:-1], str(out)],
                       check=True)
        return media.load_audio(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, action="append", required=True, help="dataset with labels.jsonl (repeatable)")
    ap.add_argument("--reencode", type=int, default=0, help="also re-encode the first N test clips of each set")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)

    from detector import media
    from detector.audio.features import PHONE_BAND_SHARE, narrow_band, resample, upper_band_share

    result: dict = {"cutoff_share": PHONE_BAND_SHARE, "sets": {}}
    for d in args.data:
        lab = d / "labels.jsonl"
        if not lab.is_file():
            print(f"{d}: no labels.jsonl", file=sys.stderr)
            return 2
        recs = [json.loads(x) for x in lab.read_text("utf-8").splitlines() if x.strip()]
        recs = [r for r in recs if r.get("split") == "test"]
        groups: dict[str, list[tuple[bool, float]]] = defaultdict(list)
        for r in tqdm(recs, desc=d.name, file=sys.stderr, leave=False):
            y, sr = media.load_audio(d / r["file"])
            y16 = resample(y, sr)
            who = r.get("generator") or r.get("corpus_source") or str(r.get("source", "?")).split("/")[0]
            groups[f"{r['label']}/{who}"].append((narrow_band(y16, sr), upper_band_share(y16)))
        entry = {
            k: {"n": len(v), "narrow_band": sum(b for b, _ in v), "min_share": float(min(s for _, s in v))}
            for k, v in sorted(groups.items())
        }
        total = sum(len(v) for v in groups.values())
        flagged = sum(b for v in groups.values() for b, _ in v)
        out = {"clips": total, "narrow_band": flagged, "groups": entry}
        for name, how in REENCODINGS.items() if args.reencode else ():
            shares = []
            for r in recs[: args.reencode]:
                y, sr = _reencoded(d / r["file"], how)
                shares.append((narrow_band(resample(y, sr), sr), upper_band_share(resample(y, sr))))
            out[f"reencoded_{name}"] = {"n": len(shares), "narrow_band": sum(b for b, _ in shares),
                                       "max_share": float(max(s for _, s in shares))}
        result["sets"][d.name] = out
        print(f"{d.name}: {flagged}/{total} narrow band", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

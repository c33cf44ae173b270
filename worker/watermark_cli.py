"""`provscan watermark embed|detect`: file-level wrappers around detector.watermark schemes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from detector.errors import DetectorError
from detector.settings import Settings

OURS = {"image": "provscan-image", "audio": "provscan-audio", "text": "provscan-text"}
IMAGE_SAVE = {".png": ("PNG", {}), ".jpg": ("JPEG", {"quality": 95}), ".jpeg": ("JPEG", {"quality": 95}),
              ".webp": ("WEBP", {"lossless": True}), ".bmp": ("BMP", {}), ".tif": ("TIFF", {}), ".tiff": ("TIFF", {})}
AUDIO_SAVE = {".wav", ".flac"}


def _err(msg: str) -> int:
    print(f"provscan: {msg}", file=sys.stderr)
    return 1


def _load(path: Path) -> tuple[str, Any]:
    from detector import media

    item = media.sniff(path)
    if item.media_type == "image":
        return "image", media.load_image(path)
    if item.media_type == "audio":
        return "audio", media.load_audio(path)
    if item.media_type == "text":
        return "text", media.load_text(path)
    raise DetectorError(f"watermarks are not supported for {item.media_type} files")


def _scheme(name: str, settings: Settings) -> Any:
    from detector.pipeline import load_plugins
    from detector.watermark.base import WATERMARKS

    load_plugins()
    return WATERMARKS.create(name, key=settings.watermark_key)


def cmd_embed(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    src, out = Path(args.file), Path(args.out)
    if not src.is_file():
        print(f"provscan: no such file: {src}", file=sys.stderr)
        return 2
    try:
        modality, signal = _load(src)
        scheme = _scheme(OURS[modality], settings)
        if modality == "text":
            # Text is marked by rewording it with synonyms: say how much of the author's text changed.
            marked, stats = scheme.embed_with_stats(signal, payload=args.payload)
            print(f"reworded {stats['words_changed']} of {stats['words']} words ({stats['fraction_changed']:.1%}); "
                  f"z {stats['z_before']:.2f} -> {stats['z']:.2f}", file=sys.stderr)
        else:
            marked = scheme.embed(signal, payload=args.payload)
        out.parent.mkdir(parents=True, exist_ok=True)
        if modality == "image":
            from PIL import Image

            fmt = IMAGE_SAVE.get(out.suffix.lower())
            if fmt is None:
                return _err(f"output must end in one of {', '.join(sorted(IMAGE_SAVE))}")
            Image.fromarray(marked).save(out, fmt[0], **fmt[1])
        elif modality == "audio":
            import soundfile as sf

            if out.suffix.lower() not in AUDIO_SAVE:
                return _err("audio output must be .wav or .flac (lossless; encode to lossy formats afterwards)")
            y, sr = marked
            sf.write(out, y, sr, subtype="PCM_16")
        else:
            out.write_text(marked, encoding="utf-8")
    except DetectorError as exc:
        return _err(str(exc))
    print(f"watermarked {src} -> {out} ({OURS[modality]}{', payload ' + repr(args.payload) if args.payload else ''})",
          file=sys.stderr)
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    from detector.pipeline import load_plugins
    from detector.types import to_jsonable
    from detector.watermark.base import WATERMARKS

    settings = Settings.from_env()
    src = Path(args.file)
    if not src.is_file():
        print(f"provscan: no such file: {src}", file=sys.stderr)
        return 2
    try:
        modality, signal = _load(src)
    except DetectorError as exc:
        return _err(str(exc))
    load_plugins()
    if args.all:
        names = [OURS[modality]] + [n for n in WATERMARKS.list(modality=modality) if n != OURS[modality]]
    else:
        names = [args.scheme or OURS[modality]]
        if names[0] not in WATERMARKS.list(modality=modality):
            return _err(f"scheme {names[0]!r} does not apply to {modality} (have: {', '.join(WATERMARKS.list(modality=modality))})")
    for name in names:
        r = _scheme(name, settings).detect(signal)
        if args.json:
            d = to_jsonable(r)
            if not args.verbose:
                d.pop("evidence", None)
            print(json.dumps(d))
        else:
            p = f", p={r.p_value:.2e}" if r.p_value is not None else ""
            pay = f", payload {r.payload!r}" if r.payload else ""
            print(f"{r.scheme}: {'DETECTED' if r.detected else 'not detected'} (score {r.score:.4f}{p}{pay})")
    return 0


def add_parser(sub: Any) -> None:
    wm = sub.add_parser("watermark", help="embed or detect invisible watermarks (image, audio, text)")
    ws = wm.add_subparsers(dest="wm_cmd", required=True)
    e = ws.add_parser("embed", help="mark an image/audio file with the provscan watermark")
    e.add_argument("file")
    e.add_argument("--out", required=True)
    e.add_argument("--payload", default=None, help="short text carried by the mark (up to 8 bytes)")
    e.set_defaults(fn=cmd_embed)
    d = ws.add_parser("detect", help='print {"scheme","detected","score","payload"}')
    d.add_argument("file")
    d.add_argument("--json", action="store_true")
    d.add_argument("--scheme", default=None, help="default: the provscan scheme for the file's type")
    d.add_argument("--all", action="store_true", help="every scheme for the file's type, one line each")
    d.add_argument("--verbose", action="store_true", help="include evidence (per-second scores, token map) in --json")
    d.set_defaults(fn=cmd_detect)

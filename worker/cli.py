"""The `provscan` command line. Each sub-command parses arguments and calls library code."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from detector.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _err(msg: str) -> None:
    print(f"provscan: {msg}", file=sys.stderr)


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {n}")
    return n


# --- serve / worker -------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    from web.app import create_app

    app = create_app(settings)
    # Bind before starting any worker: a port already taken (another provscan, say) is a usage
    # error with a clear message, not a traceback after "serving on" (and two workers started for nothing).
    from waitress.server import create_server

    try:
        server = create_server(app, host=args.host, port=args.port, threads=args.threads, ident="provscan")
    except OSError as exc:
        _err(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc} (is another provscan or server "
             "running there? choose another --port)")
        return EXIT_USAGE
    stopping = threading.Event()
    children: dict[str, subprocess.Popen] = {}
    if settings.embedded:
        # Same task code as production, in child processes on a broker that needs no server: one
        # worker for scans and one for dataset jobs, so a long dataset never holds up an upload.
        env = dict(os.environ, PROVSCAN_DATA_DIR=str(settings.data_dir))
        base = [sys.executable, "-m", "worker.cli", "worker"]
        cmds = {
            "scans": base + ["--queues", "scans", "--concurrency", str(args.concurrency)],
            "datasets": base + ["--queues", "datasets", "--concurrency", "1"],
        }
        for name, cmd in cmds.items():
            children[name] = subprocess.Popen(cmd, env=env)
        pids = ", ".join(f"{n} pid {c.pid}" for n, c in children.items())
        print(f"provscan: embedded workers started ({pids}); queue in {settings.data_dir / 'queue'}", file=sys.stderr)

        def watchdog() -> None:
            # A dead embedded worker would leave every upload queued forever: restart it.
            while not stopping.wait(5.0):
                for name, child in list(children.items()):
                    if child.poll() is not None:
                        print(f"provscan: embedded {name} worker exited ({child.returncode}); restarting",
                              file=sys.stderr)
                        children[name] = subprocess.Popen(cmds[name], env=env)

        threading.Thread(target=watchdog, daemon=True, name="worker-watchdog").start()

    def _stop_children() -> None:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()

    def stop(*_a: object) -> None:
        stopping.set()
        _stop_children()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"provscan: serving on http://{args.host}:{args.port}/ (data in {settings.data_dir})", file=sys.stderr)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        _stop_children()
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    from worker.celery_app import celery

    try:
        queues = Settings.from_env().queues(args.queues)
    except ValueError as exc:
        _err(str(exc))
        return EXIT_USAGE
    argv = ["worker", "--loglevel", args.loglevel, "-Q", ",".join(queues), "--concurrency", str(args.concurrency)]
    if args.hostname:
        argv += ["--hostname", args.hostname]
    celery.worker_main(argv)
    return EXIT_OK


# --- keys -----------------------------------------------------------------------------------


def cmd_keys(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.keys_cmd == "init-signing":
        return _keys_init_signing(args, settings)
    from worker.store import get_store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = get_store(settings.database_url)
    if args.keys_cmd == "create":
        try:
            key = store.create_key(args.name)
        except ValueError as exc:
            _err(str(exc))
            return EXIT_USAGE
        print(f"Created API key {args.name!r}. It is shown once; store it now:", file=sys.stderr)
        print(key)
        return EXIT_OK
    if args.keys_cmd == "list":
        for k in store.list_keys():
            state = "revoked" if k.revoked else "active"
            used = k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "never"
            print(f"{k.prefix}…\t{k.name}\t{state}\tcreated {k.created_at:%Y-%m-%d}\tlast used {used}")
        return EXIT_OK
    if args.keys_cmd == "revoke":
        n = store.revoke_key(args.name)
        if not n:
            _err(f"no key named or prefixed {args.name!r}")
            return EXIT_FAILED
        print(f"revoked {n} key(s)")
        return EXIT_OK
    return EXIT_USAGE


def _keys_init_signing(args: argparse.Namespace, settings: Settings) -> int:
    from detector.provenance import keys

    dest = Path(args.dir) if args.dir else settings.signing_dir
    try:
        if args.cert or args.key:
            if not (args.cert and args.key):
                _err("--cert and --key go together")
                return EXIT_USAGE
            paths = keys.import_signing(dest, cert=Path(args.cert), key=Path(args.key), force=args.force)
        else:
            paths = keys.init_signing(dest, common_name=args.common_name, force=args.force)
    except (keys.SigningKeyError, FileExistsError, ValueError, OSError) as exc:
        _err(str(exc))
        return EXIT_FAILED
    print(f"signing chain: {paths.chain}\nCA certificate (trust anchor): {paths.ca}")
    return EXIT_OK


# --- scan -----------------------------------------------------------------------------------


def _expand(paths: Iterable[str]) -> tuple[list[Path], list[str]]:
    from worker.service import iter_files

    files, missing = [], []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            missing.append(raw)
            continue
        files.extend(iter_files(p))
    return files, missing


def cmd_scan(args: argparse.Namespace) -> int:
    files, missing = _expand(args.paths)
    for m in missing:
        _err(f"no such file or directory: {m}")
    if not files and missing:
        return EXIT_USAGE
    if not files:
        # An empty (or unmounted) folder: say so rather than succeed in silence; not an error, as
        # an inbox scanned by cron may well be empty.
        _err(f"no files to scan under {', '.join(map(str, args.paths))}")
        return EXIT_OK
    reports = _scan_api(files, args) if args.api else _scan_local(files, json_mode=args.json)
    if reports is None:
        return EXIT_FAILED
    failed = 0
    for r in reports:
        failed += r.get("status") != "done"
        if not args.json:
            _print_human(r)
    if missing:
        return EXIT_USAGE
    return EXIT_FAILED if failed else EXIT_OK


def _emit(report: dict, args_json: bool) -> None:
    if args_json:
        sys.stdout.write(json.dumps(report) + "\n")
        sys.stdout.flush()


def _scan_local(files: list[Path], *, json_mode: bool) -> list[dict]:
    from tqdm import tqdm

    from detector.pipeline import analyze

    settings = Settings.from_env()
    out = []
    for f in tqdm(files, desc="scanning", unit="file", file=sys.stderr, disable=len(files) < 2):
        r = analyze(f, filename=str(f), settings=settings).to_dict()
        _emit(r, json_mode)
        out.append(r)
    return out


def _scan_api(files: list[Path], args: argparse.Namespace) -> list[dict] | None:
    import requests
    from tqdm import tqdm

    base = args.api.rstrip("/")
    if not base.endswith("/api/v1"):
        base += "/api/v1"
    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    pending: dict[str, Path] = {}
    out: list[dict] = []
    try:
        for f in tqdm(files, desc="uploading", unit="file", file=sys.stderr, disable=len(files) < 2):
            with open(f, "rb") as fh:
                resp = requests.post(f"{base}/scans", files={"file": (f.name, fh)}, headers=headers, timeout=300)
            if resp.status_code == 401:
                _err(f"the server refused the API key: {resp.json().get('error', {}).get('message')}")
                return None
            if resp.status_code != 202:
                msg = _error_message(resp)
                r = {"id": None, "sha256": None, "filename": str(f), "media_type": None, "status": "error",
                     "error": f"upload refused ({resp.status_code}): {msg}", "verdict": None, "provenance": {},
                     "detectors": [], "models": {}, "created_at": None}
                _emit(r, args.json)
                out.append(r)
                continue
            pending[resp.json()["id"]] = f
        bar = tqdm(total=len(pending), desc="analysing", unit="file", file=sys.stderr, disable=len(pending) < 2)
        deadline = time.monotonic() + args.timeout
        delay = 0.2
        while pending and time.monotonic() < deadline:
            for sid in list(pending):
                resp = requests.get(f"{base}/scans/{sid}", headers=headers, timeout=60)
                r = resp.json()
                if r.get("status") in ("done", "error"):
                    r["filename"] = str(pending.pop(sid))
                    _emit(r, args.json)
                    out.append(r)
                    bar.update(1)
            if pending:
                time.sleep(delay)
                delay = min(delay * 1.5, 3.0)
        bar.close()
    except requests.RequestException as exc:
        _err(f"cannot reach the service at {base}: {exc}")
        return None
    if pending:
        _err(f"timed out after {args.timeout} s waiting for {len(pending)} scan(s)")
        return None
    return out


def _error_message(resp) -> str:  # noqa: ANN001
    try:
        return resp.json()["error"]["message"]
    except Exception:
        return resp.text[:200]


def _print_human(r: dict) -> None:
    name = r.get("filename")
    if r.get("status") != "done":
        print(f"{name}: ERROR {r.get('error')}")
        return
    v = r.get("verdict") or {}
    c = (r.get("provenance") or {}).get("c2pa") or {}
    c2 = f"C2PA {c.get('state')}" if c.get("present") else "no C2PA"
    print(f"{name}: {v.get('label')} ({v.get('score'):.2f}) [{r.get('media_type')}, {c2}]")
    for reason in v.get("reasons", [])[:3]:
        print(f"    - {reason}")


# --- sign ---------------------------------------------------------------------------------


def cmd_sign(args: argparse.Namespace) -> int:
    from detector.errors import DetectorError
    from detector.provenance.keys import ensure_signing
    from detector.provenance.sign import sign_file

    settings = Settings.from_env()
    src, out = Path(args.file), Path(args.out)
    if not src.is_file():
        _err(f"no such file: {src}")
        return EXIT_USAGE
    try:
        paths = ensure_signing(settings.signing_dir)
        sign_file(src, out, signing_dir=paths, title=args.title or src.name,
                  digital_source_type=_SOURCE_TYPES[args.source_type], generator=args.generator)
    except DetectorError as exc:
        _err(str(exc))
        return EXIT_FAILED
    print(f"signed {src} -> {out} (signer chain {paths.chain}; trust anchor {paths.ca})", file=sys.stderr)
    return EXIT_OK


_IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
_SOURCE_TYPES = {
    "ai": _IPTC + "trainedAlgorithmicMedia",
    "ai-composite": _IPTC + "compositeWithTrainedAlgorithmicMedia",
    "capture": _IPTC + "digitalCapture",
    "algorithmic": _IPTC + "algorithmicMedia",
    "digital-art": _IPTC + "digitalArt",
}


# --- corpus / generate -------------------------------------------------------------------


def cmd_corpus(args: argparse.Namespace) -> int:
    from generators.corpus import build_corpus
    from generators.errors import GeneratorError

    settings = Settings.from_env()
    dest = Path(args.dest) if args.dest else settings.data_dir / "corpus"
    missing = [d for d in args.add_real if not Path(d).is_dir()]
    if missing:
        _err(f"--add-real folder not found: {', '.join(missing)}")
        return EXIT_USAGE
    try:
        m = build_corpus(dest, add_real=[Path(d) for d in args.add_real],
                         sources=args.sources.split(",") if args.sources else None,
                         use_apt=not args.no_apt, seed=args.seed)
    except GeneratorError as exc:
        _err(str(exc))
        return EXIT_FAILED
    print(f"corpus: {len(m.items)} items in {dest} (manifest.jsonl, README.md)")
    return EXIT_OK


def cmd_generate(args: argparse.Namespace) -> int:
    from generators.dataset import generate_dataset
    from generators.errors import GeneratorError

    if args.count < 1:
        _err("--count must be at least 1")
        return EXIT_USAGE
    if not 0.0 <= args.real_ratio < 1.0:
        _err("--real-ratio must be in [0, 1)")
        return EXIT_USAGE
    try:
        summary = generate_dataset(
            modality=args.modality, count=args.count, out=Path(args.out), seed=args.seed,
            generators=args.generators.split(",") if args.generators else None,
            watermark=not args.no_watermark, c2pa=not args.no_c2pa, real_ratio=args.real_ratio,
            corpus=Path(args.corpus) if args.corpus else None, settings=Settings.from_env(),
            image_format=args.image_format,
        )
    except GeneratorError as exc:
        _err(str(exc))
        return EXIT_FAILED
    print(f"dataset: {summary.made} made, {summary.resumed} already there, {len(summary.failed)} failed -> {args.out}")
    for idx, gen, err in summary.failed[:10]:
        _err(f"item {idx} ({gen}) failed: {err}")
    return EXIT_FAILED if summary.failed else EXIT_OK


def cmd_dataset_verify(args: argparse.Namespace) -> int:
    from generators.verify import table, verify_dataset

    out = Path(args.dir)
    if not (out / "labels.jsonl").is_file():
        _err(f"{out} has no labels.jsonl (not a provscan dataset)")
        return EXIT_USAGE
    tallies = verify_dataset(out, settings=Settings.from_env())
    if args.json:
        from dataclasses import asdict

        print(json.dumps({k: asdict(v) for k, v in tallies.items()}))
    else:
        print(table(tallies))
    bad = sum(len(t.failures) for t in tallies.values())
    for t in tallies.values():
        for f in t.failures[:5]:
            _err(f)
    return EXIT_FAILED if bad else EXIT_OK


def cmd_threshold(args: argparse.Namespace) -> int:
    from detector.base import create_detector
    from detector.eval.threshold import fit_verdict_threshold, write_to_card
    from detector.pipeline import load_plugins

    settings = Settings.from_env()
    corpus = Path(args.corpus)
    if not (corpus / "manifest.jsonl").is_file():
        _err(f"{corpus} has no manifest.jsonl (build one with: provscan corpus build --dest {corpus})")
        return EXIT_USAGE
    if not 0 < args.fpr < 0.5:
        _err("--fpr must be in (0, 0.5)")
        return EXIT_USAGE
    if bool(args.per_voice) != (args.synthetic is not None):
        # The per-voice rule includes what the threshold catches: without a set it can only be withheld.
        _err("--per-voice and --synthetic SET go together (the evaluation set whose synthetic test clips the "
             "per-voice threshold must catch)")
        return EXIT_USAGE
    load_plugins()
    det = create_detector(args.name, models_dir=settings.models_dir)
    card = settings.models_dir / "detectors" / f"{args.name}.yaml"
    if args.per_voice:
        return _per_voice_threshold(det, corpus, card, args.synthetic)
    entry = fit_verdict_threshold(det, corpus, split=args.split, target_fpr=args.fpr, limit=args.limit)
    write_to_card(card, entry)
    print(json.dumps(entry, indent=2))
    print(f"written to {card}", file=sys.stderr)
    return EXIT_OK


def _per_voice_threshold(det: Any, corpus: Path, card: Path, synthetic: Path | None) -> int:
    from worker.audio_threshold import fit_voice_threshold, write_voice_threshold

    if det.modality != "audio":
        _err(f"--per-voice is for audio detectors; {det.name} is a {det.modality} detector")
        return EXIT_USAGE
    from detector.errors import DetectorError

    try:
        entry = fit_voice_threshold(det, corpus, synthetic)
    except (ValueError, DetectorError) as exc:  # a corpus without the validation voices; no evaluation set
        _err(str(exc))
        return EXIT_USAGE
    write_voice_threshold(card, entry)
    held = entry["held_out"]
    print(json.dumps({k: entry[k] for k in ("value", "published", "withheld_because")}
                     | {"held_out_pooled": held["pooled"], "worst_held_out_voice": held["worst_voice"],
                        "tpr": (entry["synthetic"] or {}).get("tpr")}, indent=2))
    what = "published" if entry["published"] else "withheld (verdict_threshold_withheld)"
    print(f"{what}: written to {card}", file=sys.stderr)
    return EXIT_OK


# --- models ---------------------------------------------------------------------------------


def cmd_models(args: argparse.Namespace) -> int:
    from worker import models

    settings = Settings.from_env()
    if args.models_cmd == "list":
        rows = models.status(settings)
        if not rows:
            print("no models registered")
        for m, present in rows:
            print(f"{m.name}\t{m.kind}\t{'present' if present else 'MISSING'}\t{m.path(settings.models_dir)}")
        return EXIT_OK
    try:
        built = models.build(settings, args.names or None, missing_only=args.missing_only, seed=args.seed,
                             kind=args.kind, jobs=args.jobs)
    except KeyError as exc:
        _err(str(exc.args[0]))
        return EXIT_USAGE
    except RuntimeError as exc:
        _err(str(exc))
        return EXIT_FAILED
    if not built:
        print("provscan: all models present; nothing to build", file=sys.stderr)
    return EXIT_OK


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="provscan", description="Detect AI-generated media and check its provenance.")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("serve", help="web UI + API (with an embedded worker when REDIS_URL is unset)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--threads", type=int, default=8)
    s.add_argument("--concurrency", type=int, default=1, help="embedded worker processes")
    s.set_defaults(fn=cmd_serve)

    w = sub.add_parser("worker", help="a Celery worker on REDIS_URL (or the embedded filesystem queue)")
    w.add_argument("--concurrency", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    w.add_argument("--queues", default="scans,datasets",
                   help="comma-separated: scans, datasets (default both; run separate workers to scale them apart)")
    w.add_argument("--loglevel", default="INFO")
    w.add_argument("--hostname", default=None)
    w.set_defaults(fn=cmd_worker)

    k = sub.add_parser("keys", help="API keys and signing keys")
    ks = k.add_subparsers(dest="keys_cmd", required=True)
    kc = ks.add_parser("create", help="create an API key (printed once, as the last word of stdout)")
    kc.add_argument("name")
    ks.add_parser("list", help="list API keys (never the secrets)")
    kr = ks.add_parser("revoke", help="revoke keys by name or prefix")
    kr.add_argument("name")
    ki = ks.add_parser("init-signing", help="create an ES256 CA + signing certificate, or import your own")
    ki.add_argument("--dir", default=None, help="default: $PROVSCAN_SIGNING_DIR or DATA_DIR/signing")
    ki.add_argument("--common-name", default="provscan")
    ki.add_argument("--cert", default=None, help="your PEM chain (signer first, then intermediates)")
    ki.add_argument("--key", default=None, help="your PEM private key")
    ki.add_argument("--force", action="store_true", help="replace existing keys")
    k.set_defaults(fn=cmd_keys)

    sc = sub.add_parser("scan", help="scan files or folders (locally, or through a running service with --api)")
    sc.add_argument("paths", nargs="+")
    sc.add_argument("--json", action="store_true", help="one JSON report per line on stdout (JSON Lines)")
    sc.add_argument("--api", default=None, help="service URL, e.g. http://127.0.0.1:8000")
    sc.add_argument("--key", default=os.environ.get("PROVSCAN_API_KEY"), help="API key (or $PROVSCAN_API_KEY)")
    sc.add_argument("--timeout", type=float, default=3600, help="seconds to wait for results with --api")
    sc.set_defaults(fn=cmd_scan)
    from worker import watermark_cli

    watermark_cli.add_parser(sub)

    sg = sub.add_parser("sign", help="add a signed C2PA manifest (AI-made by default) to a JPEG/PNG/WAV/FLAC/MP3")
    sg.add_argument("file")
    sg.add_argument("--out", required=True)
    sg.add_argument("--source-type", choices=sorted(_SOURCE_TYPES), default="ai",
                    help="IPTC digitalSourceType to declare (default: ai = trainedAlgorithmicMedia)")
    sg.add_argument("--title", default=None)
    sg.add_argument("--generator", default="provscan", help="softwareAgent / claim generator name")
    sg.set_defaults(fn=cmd_sign)

    co = sub.add_parser("corpus", help="gather real (human-made) media for training and evaluation")
    cos = co.add_subparsers(dest="corpus_cmd", required=True)
    cb = cos.add_parser("build", help="fetch Debian/wheel sources and your folders; write manifest + splits")
    cb.add_argument("--dest", default=None, help="default: DATA_DIR/corpus")
    cb.add_argument("--add-real", action="append", default=[], metavar="DIR", help="your own real media (repeatable)")
    cb.add_argument("--sources", default=None, help="comma-separated source names (default: all but the opt-in new-camera photos: lomiri-wallpapers, mate-backgrounds, palapeli)")
    cb.add_argument("--no-apt", action="store_true", help="do not run apt-get download")
    cb.add_argument("--seed", type=int, default=0)
    co.set_defaults(fn=cmd_corpus)

    ge = sub.add_parser("generate", help="make a labelled, signed, watermarked synthetic dataset")
    ge.add_argument("--modality", required=True, choices=["text", "image", "voice"])
    ge.add_argument("--count", type=int, required=True)
    ge.add_argument("--out", required=True)
    ge.add_argument("--seed", type=int, default=0)
    ge.add_argument("--generators", default=None, help="comma-separated generator names (default: all available)")
    ge.add_argument("--no-watermark", action="store_true")
    ge.add_argument("--no-c2pa", action="store_true")
    ge.add_argument("--real-ratio", type=float, default=0.0)
    ge.add_argument("--corpus", default=None, help="real corpus folder (default: DATA_DIR/corpus)")
    ge.add_argument("--image-format", choices=["png", "jpeg", "mixed"], default="png")
    ge.set_defaults(fn=cmd_generate)

    ds = sub.add_parser("dataset", help="inspect generated datasets")
    dss = ds.add_subparsers(dest="dataset_cmd", required=True)
    dv = dss.add_parser("verify", help="check every synthetic item's C2PA manifest and watermark")
    dv.add_argument("dir")
    dv.add_argument("--json", action="store_true")
    dv.set_defaults(fn=cmd_dataset_verify)

    from detector.train import cli as train_cli

    tr = sub.add_parser("train", help="train a detector on a generated dataset (labels.jsonl)")
    train_cli.add_train_args(tr).set_defaults(fn=train_cli.cmd_train)
    ev = sub.add_parser("evaluate", help="evaluate a detector: AUC, EER, TPR@FPR, robustness, calibration, plots")
    train_cli.add_evaluate_args(ev).set_defaults(fn=train_cli.cmd_evaluate)

    th = sub.add_parser("threshold", help="publish a detector's verdict threshold at a target FPR on human media")
    th.add_argument("name", help="detector name, e.g. text-lm-logreg")
    th.add_argument("--corpus", required=True, help="real corpus folder (provscan corpus build)")
    th.add_argument("--split", default="test", help="corpus split the detector never trained on")
    th.add_argument("--fpr", type=float, default=0.01)
    th.add_argument("--limit", type=int, default=None)
    th.add_argument("--per-voice", action="store_true",
                    help="audio: fit per voice on the validation voices of the speech corpus and check it on the "
                    "held-out voices (worker/audio_threshold.py); --split/--fpr/--limit do not apply")
    th.add_argument("--synthetic", type=Path, default=None,
                    help="with --per-voice: evaluation set whose synthetic test clips must be caught (>= 20 %%)")
    th.set_defaults(fn=cmd_threshold)

    mo = sub.add_parser("models", help="list or build the model weights this instance uses")
    mos = mo.add_subparsers(dest="models_cmd", required=True)
    mos.add_parser("list", help="registered models and whether their weights are present")
    mb = mos.add_parser("build", help="train models here (seeded; never downloads)")
    mb.add_argument("names", nargs="*", help="default: all")
    mb.add_argument("--missing-only", action="store_true")
    mb.add_argument("--kind", choices=["generator", "detector"], default=None,
                    help="only this kind (a detector's missing generators are still built first)")
    mb.add_argument("--seed", type=int, default=0)
    mb.add_argument("--jobs", type=_positive_int, default=1,
                    help="build up to this many detectors at once, each in its own process (same weights "
                    "whatever the number; 2 halves `make models` on 2 cores)")
    mo.set_defaults(fn=cmd_models)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "api", None) and not getattr(args, "key", None):
        parser.error("--api needs --key (or PROVSCAN_API_KEY)")
    from detector.errors import DetectorError
    from generators.errors import GeneratorError

    try:
        return int(args.fn(args) or 0)
    except (DetectorError, GeneratorError) as exc:
        # Errors we raise on purpose carry a message a user can act on: no traceback.
        _err(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

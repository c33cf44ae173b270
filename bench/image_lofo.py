"""Leave-one-family-out for the image detectors: one table and one plot from the evaluation reports.

    python -m bench.image_lofo --reports docs/eval/image_hold \\
        --out docs/eval/image_hold/lofo.json --png docs/eval/image_hold/lofo.png

``<reports>/<family>/<detector>/results.json`` is the report ``provscan evaluate`` wrote for the
model trained with that generator family held out (``train_detector(..., holdout_generator=G)``),
scored on the test split plus every item of the held-out family (``evaluate(...,
holdout_generator=G)``). Nothing is trained or scored here: this reads the reports, so every figure
is one of theirs. Per held-out family and detector it gives the overall AUC per transform and the
AUC of each held-out generator against the real test items; the family's figure is its weakest
generator's (a family is as detectable as its hardest member). The peers are the baselines of the
same run: ``beats_baselines`` says, per transform, whether the first detector is ahead of both.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DETECTORS = ("image-residual-cnn", "image-npr-cnn", "image-fft-lr")
PLOT_TRANSFORMS = ("none", "jpeg75", "resize0.5")


def _family_row(report: dict[str, Any]) -> dict[str, Any]:
    """Overall and held-out-family AUCs per transform of one report."""
    from detector.train.data import generator_family

    fam = report["holdout_family"]
    # Reports name the family's generators since 2026-12-03; older ones: the name's family.
    in_family = set(report.get("holdout_generators") or
                    [g for g in report["transforms"]["none"]["per_generator"] if generator_family(g) == fam])
    overall, held, members = {}, {}, {}
    for t, res in report["transforms"].items():
        overall[t] = res["overall"]["auc"]
        gens = {g: v["auc"] for g, v in res["per_generator"].items() if g in in_family}
        members[t] = gens
        held[t] = min(gens.values()) if gens else None
    return {
        "n_real": report["n_real"],
        "n_synthetic": report["n_synthetic"],
        "auc_overall": overall,
        "auc_heldout_family": held,
        "auc_heldout_generators": members,
    }


def summarise(reports: Path, detectors: tuple[str, ...] = DETECTORS) -> dict[str, Any]:
    """{"families": {family: {detector: row}}, "beats_baselines": {family: {overall|heldout: {transform: bool}}}}.

    Raises:
        FileNotFoundError: a family folder lacks one of ``detectors``' reports.
        ValueError: no family folders, or a report was made without a held-out family.
    """
    fams = sorted(p for p in Path(reports).iterdir() if p.is_dir())
    if not fams:
        raise ValueError(f"no family folders under {reports}")
    out: dict[str, Any] = {"families": {}, "beats_baselines": {}, "detectors": list(detectors)}
    for fam_dir in fams:
        rows, family = {}, None
        for det in detectors:
            path = fam_dir / det / "results.json"
            if not path.exists():
                raise FileNotFoundError(f"{path} is missing (run provscan evaluate for {det} first)")
            report = json.loads(path.read_text("utf-8"))
            if not report.get("holdout_family"):
                raise ValueError(f"{path} was evaluated without --holdout-generator")
            if family not in (None, report["holdout_family"]):
                raise ValueError(f"{fam_dir}: reports of different held-out families")
            family = report["holdout_family"]
            rows[det] = {"holdout_generator": report["holdout_generator"], **_family_row(report)}
        out["families"][family] = rows
        main, peers = rows[detectors[0]], [rows[d] for d in detectors[1:]]
        out["beats_baselines"][family] = {
            key: {t: all(v is not None and (p[key][t] or 0) < v for p in peers) for t, v in main[key].items()}
            for key in ("auc_overall", "auc_heldout_family")
        }
    return out


def table(summary: dict[str, Any]) -> str:
    """Markdown: one row per held-out family and detector (overall / held-out family AUC)."""
    dets = summary["detectors"]
    any_row = next(iter(summary["families"].values()))[dets[0]]
    ts = list(any_row["auc_overall"])
    lines = ["| family held out | detector | " + " | ".join(ts) + " | held-out family (weakest generator): "
             + " / ".join(ts) + " |", "|---|---|" + "---|" * (len(ts) + 1)]
    for fam, rows in summary["families"].items():
        for d in dets:
            r = rows[d]
            held = " / ".join("-" if r["auc_heldout_family"][t] is None else f"{r['auc_heldout_family'][t]:.3f}"
                              for t in ts)
            lines.append(f"| {fam} | {d} | " + " | ".join(f"{r['auc_overall'][t]:.3f}" for t in ts) + f" | {held} |")
    return "\n".join(lines)


def _held(summary: dict[str, Any], t: str) -> list[float]:
    return [r["auc_heldout_family"].get(t) or 0.0 for rows in summary["families"].values() for r in rows.values()]


def plot(summary: dict[str, Any], png: Path) -> None:
    """Held-out family AUC per detector, one panel per transform."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fams = list(summary["families"])
    dets = summary["detectors"]
    fig, axes = plt.subplots(1, len(PLOT_TRANSFORMS), figsize=(4.2 * len(PLOT_TRANSFORMS), 3.6), sharey=True)
    x = np.arange(len(fams))
    w = 0.8 / len(dets)
    for ax, t in zip(axes, PLOT_TRANSFORMS, strict=True):
        for i, d in enumerate(dets):
            vals = [summary["families"][f][d]["auc_heldout_family"].get(t) or 0.0 for f in fams]
            ax.bar(x + (i - (len(dets) - 1) / 2) * w, vals, w, label=d)
        ax.axhline(0.9, color="k", lw=0.8, ls="--")
        ax.set_xticks(x, fams, rotation=20)
        ax.set_ylim(min(0.4, *(v - 0.05 for v in _held(summary, t))), 1.0)
        ax.set_title(f"held-out family vs real, {t}")
    axes[0].set_ylabel("AUC (weakest generator of the family)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(dets), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reports", type=Path, default=Path("docs/eval/image_hold"))
    p.add_argument("--out", type=Path, default=None, help="write the summary JSON here")
    p.add_argument("--png", type=Path, default=None, help="write the plot here")
    a = p.parse_args(argv)
    try:
        s = summarise(a.reports)
    except (OSError, ValueError, KeyError) as exc:
        print(f"image_lofo: {exc}", file=sys.stderr)
        return 2
    print(table(s))
    for fam, b in s["beats_baselines"].items():
        lost = [f"{k.removeprefix('auc_')}:{t}" for k, v in b.items() for t, ok in v.items() if not ok]
        print(f"{fam}: {DETECTORS[0]} ahead of both baselines " + ("everywhere" if not lost else f"except {', '.join(lost)}"))
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(s, indent=2) + "\n", encoding="utf-8")
    if a.png:
        plot(s, a.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Real photos and speech for the watermark benchmarks (Debian packages, extracted on demand)."""

from __future__ import annotations

import glob
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("PROVSCAN_BENCH_DATA", Path(tempfile.gettempdir()) / "provscan-bench-data"))
_SKIP = (
    "logo",
    "Suzanne",
    "digits",
    "chessboard",
    "gradient",
    "ellipses",
    "detect_blob",
    "pic",
    "notes",
    "ml.png",
    "mask",
    "imageText",
    "aloeGT",
    "starry",
    "cards",
    "box",
    "sudoku",
    "left",
    "right",
    "alphabet",
    "graf",
    "HappyFish",
    "Megamind",
    "licenseplate",
    "text_",
    "shape_sample",
    "_result",
    "output",
    "peilin_",  # binary silhouettes (peilin_plane, peilin_shape), not photos
)


def _extract(pkg: str) -> Path:
    dest = CACHE / pkg
    if dest.exists():
        return dest
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", pkg], cwd=tmp, check=True, capture_output=True)
        deb = next(Path(tmp).glob("*.deb"))
        subprocess.run(["dpkg", "-x", str(deb), str(dest)], check=True)
    return dest


def real_photos(min_side: int = 200) -> list[tuple[str, np.ndarray]]:
    """(name, RGB uint8) photos from opencv-doc, scikit-image and matplotlib."""
    from detector.media import load_image

    out = []
    root = _extract("opencv-doc") / "usr/share/doc/opencv-doc/examples"
    for p in sorted(
        glob.glob(str(root / "**/*.jpg"), recursive=True) + glob.glob(str(root / "**/*.png"), recursive=True)
    ):
        if any(s.lower() in Path(p).name.lower() or s in p for s in _SKIP):
            continue
        try:
            img = load_image(p)
        except Exception:
            continue
        # Binary masks and posterised drawings are not photos: demand a real range of grey levels.
        if min(img.shape[:2]) >= min_side and img.std() > 10 and len(np.unique(img[..., 1])) > 64:
            out.append((Path(p).name, img))
    try:
        import skimage.data as sd

        for name in ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field"):
            out.append((name, getattr(sd, name)()))
    except Exception:
        pass
    try:
        import matplotlib

        out.append(
            ("grace_hopper", load_image(Path(matplotlib.get_data_path()) / "sample_data/grace_hopper.jpg"))
        )
    except Exception:
        pass
    return out


def real_speech() -> list[str]:
    """Paths of real speech clips: alsa-utils WAVs (English) and fillets-ng cs/nl Ogg dialogue."""
    paths = sorted(glob.glob(str(_extract("alsa-utils") / "usr/share/sounds/alsa/*.wav")))
    paths = [p for p in paths if "Noise" not in p]
    for pkg in ("fillets-ng-data-cs", "fillets-ng-data-nl"):
        paths += sorted(
            glob.glob(str(_extract(pkg) / "usr/share/games/fillets-ng/sound/**/*.ogg"), recursive=True)
        )
    return paths

"""ddpm_32 training recipe: Min-SNR loss weighting and the Plasma wallpaper photo source."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from detector.settings import Settings
from generators.image.nets import Diffusion, TinyUNet
from generators.image.photos import WALLPAPER_SUBDIR, list_wallpapers


def _loss(min_snr: float | None) -> float:
    torch.manual_seed(0)
    model = TinyUNet(width=16)
    x0 = torch.rand(4, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        return float(Diffusion(1000).loss(model, x0, torch.Generator().manual_seed(3), min_snr=min_snr))


def test_min_snr_weighting_only_downweights_clean_timesteps() -> None:
    plain = _loss(None)
    # gamma above every SNR of the schedule: all weights are 1, the plain MSE comes back.
    assert abs(_loss(1e9) - plain) < 1e-6
    # gamma = 5 scales the low-noise samples down, never up: the loss can only shrink.
    assert _loss(5.0) < plain - 1e-6


def test_list_wallpapers_picks_the_smallest_size_of_known_photos(tmp_path: Path) -> None:
    settings = Settings.from_env({"PROVSCAN_DATA_DIR": str(tmp_path)})
    assert list_wallpapers(settings=settings) == []
    img = np.zeros((8, 8, 3), np.uint8)
    for name, sizes in {"Path": ["640x480", "2560x1600"], "NotAPhoto": ["640x480"]}.items():
        folder = tmp_path / "cache" / WALLPAPER_SUBDIR / name / "contents" / "images"
        folder.mkdir(parents=True)
        for s in sizes:
            cv2.imwrite(str(folder / f"{s}.jpg"), img)
    found = list_wallpapers(settings=settings)
    assert [p.id for p in found] == ["wallpaper:Path"]
    assert found[0].path.name == "640x480.jpg" and found[0].licence == "LGPL-3.0"

"""Image generator families: shapes, seeded reproducibility, edit masks, in-test training."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

import generators.image  # noqa: F401  (registers the families)
from generators.base import Generated, create_generator, list_generators
from generators.errors import GeneratorError, GeneratorUnavailableError
from generators.image import edits
from generators.image.learned import load_model
from generators.image.photos import PhotoSourceError, list_photos, pick_photo
from generators.image.procedural import parse_prompt, render_scene
from generators.image.train import default_models_dir, train_image_generator

ALL = {"procedural_scene", "vae_resynth", "ddpm_32", "ddpm_sdedit", "espcn_sr", "edit_splice", "edit_inpaint",
       "edit_region"}
EDITS = ["edit_splice", "edit_inpaint", "edit_region"]


def sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three tiny real-photo crops (from the wheel photos) so tests do not depend on opencv-doc."""
    out = tmp_path_factory.mktemp("photos")
    photos = list_photos()
    for i, p in enumerate(photos[:3]):
        img = cv2.imread(str(p.path))
        h, w = img.shape[:2]
        s = min(h, w)
        crop = cv2.resize(
            img[(h - s) // 2 : (h + s) // 2, (w - s) // 2 : (w + s) // 2],
            (96, 96),
            interpolation=cv2.INTER_AREA,
        )
        cv2.imwrite(str(out / f"photo{i}.png"), crop)
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, photo_dir: Path) -> Path:
    """All three learned generators trained for a few steps on the tiny photos."""
    out = tmp_path_factory.mktemp("models")
    for name in ("vae_resynth", "ddpm_32", "espcn_sr"):
        train_image_generator(name, out, seed=0, data=photo_dir, steps=3, batch=2, threads=1, sample_steps=2)
    return out


def test_registry_lists_every_image_family() -> None:
    assert ALL <= set(list_generators(modality="image"))
    assert set(list_generators("edit_*", modality="image")) == set(EDITS)


# ------------------------------------------------------------------ procedural


def test_prompt_keywords_are_parsed_and_unknown_words_ignored() -> None:
    assert {"sunset", "mountain", "water"} <= parse_prompt("A sunset over a mountain lake")
    assert {"night", "city"} <= parse_prompt("city skyline at night")
    assert parse_prompt("zorblax quux") == set()


def test_procedural_honours_size_and_is_seeded() -> None:
    gen = create_generator("procedural_scene")
    a = gen.generate("a sunset over a mountain lake", seed=3, size=(48, 80))
    b = gen.generate("a sunset over a mountain lake", seed=3, size=(48, 80))
    c = gen.generate("a sunset over a mountain lake", seed=4, size=(48, 80))
    assert isinstance(a, Generated) and a.label == "synthetic" and a.modality == "image"
    assert a.data.shape == (48, 80, 3) and a.data.dtype == np.uint8
    assert sha(a.data) == sha(b.data)
    assert sha(a.data) != sha(c.data)
    assert a.params["size"] == [48, 80] and a.params["time"] == "sunset"
    assert {"mountain", "water"} <= set(a.params["features"])
    # params reproduce the item
    again = gen.generate(a.prompt, seed=a.seed, size=tuple(a.params["size"]))
    assert sha(again.data) == sha(a.data)


def test_procedural_follows_the_prompt() -> None:
    night = [render_scene("a city skyline at night", seed=s, size=64)[0].mean() for s in range(3)]
    day = [render_scene("a city skyline at noon", seed=s, size=64)[0].mean() for s in range(3)]
    assert max(night) < min(day) * 0.5
    snow = render_scene("a snowy field in winter at noon", seed=0, size=64)[0]
    desert = render_scene("desert dunes at noon", seed=0, size=64)[0].astype(float)
    # Snowy ground is bright and neutral; desert ground is warm (red > blue).
    assert snow[48:].mean() > 150
    assert desert[48:, :, 0].mean() > desert[48:, :, 2].mean() + 30


def test_procedural_prompt_without_known_words_still_renders() -> None:
    img, spec = render_scene("zorblax quux", seed=1, size=32)
    assert img.shape == (32, 32, 3) and img.std() > 1
    assert spec.features


# ------------------------------------------------------------------ edits


@pytest.mark.parametrize("name", EDITS)
def test_edit_is_partial_with_mask_around_the_changes(name: str, photo_dir: Path) -> None:
    gen = create_generator(name, source_path=photo_dir)
    for seed in range(3):
        r = gen.generate("", seed=seed, size=64)
        assert r.label == "partial" and r.source and r.source.startswith("file:")
        assert r.data.shape == (64, 64, 3) and r.data.dtype == np.uint8
        assert r.mask is not None and r.mask.shape == (64, 64) and r.mask.dtype == bool
        assert 0 < r.mask.sum() < r.mask.size
        _, _, real, _, _ = edits._photo_and_base("", seed, 64, photo_dir)
        changed = np.any(r.data != real, axis=2)
        assert changed[r.mask].mean() > 0.3, "the masked region must actually be edited"
        near = cv2.dilate(r.mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        assert not changed[~near].any(), "pixels far from the mask must stay the real photo's"
        again = gen.generate("", seed=seed, size=64)
        assert sha(again.data) == sha(r.data) and np.array_equal(again.mask, r.mask)


def test_edit_options_are_honoured(photo_dir: Path) -> None:
    splice = create_generator("edit_splice", source_path=photo_dir)
    r = splice.generate("a lake", seed=0, size=64, donor="render", blend="feather")
    assert r.params["donor"] == "render" and r.params["blend"] == "feather"
    region = create_generator("edit_region", source_path=photo_dir)
    for op in ("blur", "pixelate", "copy_move"):
        assert region.generate("", seed=1, size=64, op=op, faces=False).params["op"] == op
    inp = create_generator("edit_inpaint", source_path=photo_dir)
    assert inp.generate("", seed=2, size=64, method="telea", radius=3).params["method"] == "telea"


def test_face_region_is_found_on_the_astronaut() -> None:
    photos = [p for p in list_photos() if p.id == "skimage:astronaut"]
    if not photos:
        pytest.skip("scikit-image photos not installed")
    r = create_generator("edit_region").generate("astronaut", seed=0, size=256, op="blur")
    assert r.source == "skimage:astronaut" and r.params["region"] == "face"
    ys, xs = np.nonzero(r.mask)
    # Her face is in the upper middle of the centred crop, not a random blob elsewhere.
    assert 40 < xs.mean() < 200 and ys.mean() < 140


# ------------------------------------------------------------------ photos


def test_photo_sources(photo_dir: Path, tmp_path: Path) -> None:
    photos = list_photos(photo_dir)
    assert [p.id for p in photos] == ["file:photo0.png", "file:photo1.png", "file:photo2.png"]
    assert pick_photo(photos, seed=5, prompt="photo1").id == "file:photo1.png"
    assert pick_photo(photos, seed=5) == pick_photo(photos, seed=5)
    with pytest.raises(PhotoSourceError):
        list_photos(tmp_path)


# ------------------------------------------------------------------ learned


def test_training_writes_small_weights_and_a_card(trained: Path) -> None:
    for name in ("vae_resynth", "ddpm_32", "espcn_sr"):
        weights = trained / f"{name}.pt"
        assert weights.is_file() and weights.stat().st_size < 3 * 1024 * 1024
        card = yaml.safe_load((trained / f"{name}.yaml").read_text())
        assert card["steps"] == 3 and card["seed"] == 0 and card["data"]["photos"] == 3
        assert np.isfinite(card["loss"]) and card["train_seconds"] >= 0
        assert (trained / card["sample"]).is_file()


def test_training_changes_the_weights(photo_dir: Path, tmp_path: Path) -> None:
    import torch

    train_image_generator("espcn_sr", tmp_path / "a", data=photo_dir, steps=1, batch=2, threads=1)
    train_image_generator("espcn_sr", tmp_path / "b", data=photo_dir, steps=6, batch=2, threads=1)
    a = torch.load(tmp_path / "a" / "espcn_sr.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "b" / "espcn_sr.pt", weights_only=True)["state_dict"]
    assert any(not torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("vae_resynth", {}),
        ("ddpm_32", {"ddim_steps": 3}),
        ("espcn_sr", {}),
        ("espcn_sr", {"base": "ddpm", "ddim_steps": 3}),
    ],
)
def test_learned_generators_are_seeded(name: str, params: dict, trained: Path, photo_dir: Path) -> None:
    kw = {"source_path": photo_dir} if name == "vae_resynth" else {}
    gen = create_generator(name, models_dir=trained, **kw)
    a = gen.generate("a lake at dawn", seed=1, size=(40, 56), **params)
    b = gen.generate("a lake at dawn", seed=1, size=(40, 56), **params)
    c = gen.generate("a lake at dawn", seed=2, size=(40, 56), **params)
    assert a.data.shape == (40, 56, 3) and a.data.dtype == np.uint8 and a.label == "synthetic"
    assert sha(a.data) == sha(b.data) and sha(a.data) != sha(c.data)
    if name == "vae_resynth":
        assert a.source and a.source.startswith("file:")


def test_missing_weights_name_the_command(tmp_path: Path) -> None:
    for name in ("vae_resynth", "ddpm_32", "espcn_sr"):
        with pytest.raises(GeneratorUnavailableError, match=f"generators.image.train {name}"):
            create_generator(name, models_dir=tmp_path)


def test_shipped_weights_load_and_generate() -> None:
    folder = default_models_dir()
    missing = [n for n in ("vae_resynth", "ddpm_32", "espcn_sr") if not (folder / f"{n}.pt").is_file()]
    if missing:
        pytest.skip(f"weights not built here: {missing}")
    for name in ("vae_resynth", "ddpm_32", "espcn_sr"):
        model, _, path = load_model(name)
        assert path.stat().st_size < 3 * 1024 * 1024
        r = create_generator(name).generate(
            "a mountain lake", seed=0, size=64, **({"ddim_steps": 4} if name == "ddpm_32" else {})
        )
        assert r.data.shape == (64, 64, 3) and r.data.std() > 2


def test_resume_continues_and_counts_steps(photo_dir: Path, tmp_path: Path) -> None:
    train_image_generator("espcn_sr", tmp_path, data=photo_dir, steps=2, batch=2, threads=1)
    train_image_generator("espcn_sr", tmp_path, data=photo_dir, steps=3, batch=2, threads=1, resume=True)
    card = yaml.safe_load((tmp_path / "espcn_sr.yaml").read_text())
    assert card["steps"] == 5 and card["resumed_from"]["steps"] == 2


@pytest.mark.parametrize("name", sorted(ALL))
def test_params_reproduce_the_item(name: str, trained: Path, photo_dir: Path) -> None:
    kw: dict = {}
    if name in ("vae_resynth", "ddpm_32", "espcn_sr"):
        kw["models_dir"] = trained
    if name in ("vae_resynth", *EDITS):
        kw["source_path"] = photo_dir
    gen = create_generator(name, **kw)
    first = gen.generate(
        "a lake at dawn", seed=7, size=48, **({"ddim_steps": 3} if name == "ddpm_32" else {})
    )
    again = create_generator(name, **kw).generate(first.prompt, seed=first.seed, **first.params)
    assert first.generator == name and first.version
    assert sha(again.data) == sha(first.data)


@pytest.mark.parametrize("blend", ["poisson", "feather"])
def test_splice_mask_is_the_pasted_shape(blend: str, photo_dir: Path) -> None:
    gen = create_generator("edit_splice", source_path=photo_dir)
    for seed in range(3):
        m = gen.generate("", seed=seed, size=96, blend=blend, donor="photo").mask
        ys, xs = np.nonzero(m)
        box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
        # A smooth blob fills ~60-85% of its bounding box; a rectangle (OpenCV 5 rewrites the
        # mask passed to seamlessClone) would fill all of it.
        assert 0.4 < m.sum() / box < 0.92


# ------------------------------------------------------------------ prompt-guided diffusion


def test_sdedit_is_seeded_and_its_params_reproduce_it(trained: Path) -> None:
    gen = create_generator("ddpm_sdedit", models_dir=trained)
    a = gen.generate("a lake at dawn", seed=1, size=(40, 56), native=16, ddim_steps=3)
    b = gen.generate("a lake at dawn", seed=1, size=(40, 56), native=16, ddim_steps=3)
    c = gen.generate("a lake at dawn", seed=2, size=(40, 56), native=16, ddim_steps=3)
    assert a.data.shape == (40, 56, 3) and a.data.dtype == np.uint8 and a.label == "synthetic"
    assert sha(a.data) == sha(b.data) and sha(a.data) != sha(c.data)
    again = create_generator("ddpm_sdedit", models_dir=trained).generate(a.prompt, seed=a.seed, **a.params)
    assert sha(again.data) == sha(a.data)
    assert a.params["guide"] == "procedural_scene" and a.params["native"] == [16, 24]


def test_sdedit_rejects_bad_params(trained: Path) -> None:
    gen = create_generator("ddpm_sdedit", models_dir=trained)
    for bad in ({"native": 30}, {"strength": 0.0}, {"strength": 1.5}, {"ddim_steps": 1}):
        with pytest.raises(GeneratorError):
            gen.generate("a lake", seed=0, size=32, **bad)


def test_sdedit_follows_the_prompt_where_the_unconditional_ddpm_cannot() -> None:
    if not (default_models_dir() / "ddpm_32.pt").is_file():
        pytest.skip("ddpm_32 weights not built here")
    gen = create_generator("ddpm_sdedit")
    night = [gen.generate("a city at night under the stars", seed=s, size=64).data.mean() for s in range(3)]
    day = [gen.generate("green hills under a sunny sky at noon", seed=s, size=64).data.mean() for s in range(3)]
    # The layout and light come from the prompt's scene: every night image is darker than every day one.
    assert max(night) + 20 < min(day)
    plain = create_generator("ddpm_32")
    assert sha(plain.generate("a city at night", seed=0, size=64).data) == sha(
        plain.generate("a sunny day", seed=0, size=64).data
    )

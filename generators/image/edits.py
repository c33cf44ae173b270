"""Manipulations of real photos, labelled ``partial`` with a bool HxW ``mask`` of the edit.

- ``edit_splice``: a region of another photo (or of a procedural render) pasted in, by Poisson
  blending (``cv2.seamlessClone``) or a feathered alpha edge.
- ``edit_inpaint``: free-form strokes and blobs removed with ``cv2.inpaint`` (Telea or
  Navier-Stokes).
- ``edit_region``: a face (scikit-image's LBP frontal-face cascade, since OpenCV 5 wheels ship no
  Haar cascades) or else a random region, blurred, pixelated, or overwritten by a copy of another
  part of the same photo (copy-move).

``mask`` marks pixels the edit dominates (blend weight >= 0.5); the rest are the real photo's,
up to a feathered edge. The photo comes from ``source_path`` or the built-in real photos, cropped
and resized to ``size`` first, so the mask is in output coordinates.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from generators.base import Generated, register_generator
from generators.errors import GeneratorError
from generators.image.photos import Photo, fit_to_size, list_photos, load_rgb, parse_size, pick_photo
from generators.image.procedural import render_scene, stable_seed

VERSION = "1.0"


def random_blob_mask(
    h: int, w: int, rng: np.random.Generator, *, area: tuple[float, float] = (0.05, 0.2)
) -> np.ndarray:
    """A smooth random closed shape (float32 0..1 alpha) covering roughly ``area`` of the image."""
    frac = float(rng.uniform(*area))
    rx = np.sqrt(frac * h * w / np.pi) * rng.uniform(0.7, 1.4)
    ry = frac * h * w / np.pi / rx
    rx, ry = min(rx, 0.45 * w), min(ry, 0.45 * h)
    cx = rng.uniform(rx, w - rx)
    cy = rng.uniform(ry, h - ry)
    # Star-shaped polygon with a smoothly varying radius: irregular but never self-intersecting.
    n = 48
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    k = rng.normal(0, 1, 6)
    wobble = 1 + 0.18 * sum(k[i] * np.sin((i + 2) * ang + k[(i + 3) % 6]) for i in range(3))
    pts = np.stack([cx + rx * wobble * np.cos(ang), cy + ry * wobble * np.sin(ang)], 1)
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [np.round(pts * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
    return m.astype(np.float32) / 255


def random_stroke_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Free-form inpainting mask (thick random strokes plus a blob), bool HxW, never empty."""
    m = np.zeros((h, w), np.uint8)
    s = min(h, w)
    for _ in range(int(rng.integers(1, 4))):
        x, y = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
        thick = max(2, int(rng.uniform(0.02, 0.06) * s))
        for _ in range(int(rng.integers(3, 8))):
            ang = rng.uniform(0, 2 * np.pi)
            ln = rng.uniform(0.05, 0.18) * s
            nx = float(np.clip(x + ln * np.cos(ang), 0, w - 1))
            ny = float(np.clip(y + ln * np.sin(ang), 0, h - 1))
            cv2.line(m, (int(x), int(y)), (int(nx), int(ny)), 255, thick, cv2.LINE_AA)
            x, y = nx, ny
    if rng.random() < 0.6:
        m = np.maximum(m, (random_blob_mask(h, w, rng, area=(0.01, 0.05)) * 255).astype(np.uint8))
    return m > 127


def _photo_and_base(
    prompt: str, seed: int, size: Any, source_path: str | Path | None
) -> tuple[list[Photo], Photo, np.ndarray, np.random.Generator, tuple[int, int]]:
    hw = parse_size(size)
    photos = list_photos(source_path)
    photo = pick_photo(photos, seed=seed, prompt=prompt)
    rng = stable_seed(seed, prompt)
    real = fit_to_size(load_rgb(photo.path), hw, rng=rng)
    return photos, photo, real, rng, hw


def _result(
    name: str,
    img: np.ndarray,
    mask: np.ndarray,
    *,
    seed: int,
    prompt: str,
    source: str,
    params: dict[str, Any],
) -> Generated:
    if not mask.any():
        raise GeneratorError(f"{name}: empty edit mask (size too small?)")
    return Generated(
        modality="image",
        data=np.ascontiguousarray(img),
        generator=name,
        version=VERSION,
        seed=seed,
        label="partial",
        params=params,
        prompt=prompt,
        source=source,
        mask=mask,
    )


class Splice:
    """Paste a region of another photo or of a procedural render (registered as ``edit_splice``)."""

    name = "edit_splice"
    version = VERSION
    modality = "image"

    def __init__(self, *, source_path: str | Path | None = None) -> None:
        self.source_path = source_path

    def generate(
        self,
        prompt: str,
        *,
        seed: int,
        size: int | tuple[int, int] = 512,
        source_path: str | Path | None = None,
        donor: str | None = None,
        blend: str | None = None,
        **params: Any,
    ) -> Generated:
        """Splice a donor region into a real photo.

        Args:
            prompt: May name the target photo; also the prompt of a rendered donor.
            seed: Chooses photo, donor, shape, place and (unless given) donor kind and blend.
            size: Output side or (H, W).
            source_path: Photo file or folder (default: built-in real photos).
            donor: ``"photo"`` (another real photo) or ``"render"`` (procedural scene).
            blend: ``"poisson"`` (seamless clone) or ``"feather"`` (soft alpha edge).
        """
        src = source_path if source_path is not None else self.source_path
        photos, photo, real, rng, (h, w) = _photo_and_base(prompt, seed, size, src)
        # Draw the defaults even when options are given, so the random stream (shape, place) and
        # therefore the pixels are the same when an item is regenerated from its params.
        drawn_donor = "photo" if rng.random() < 0.7 else "render"
        drawn_blend = "poisson" if rng.random() < 0.5 else "feather"
        donor, blend = donor or drawn_donor, blend or drawn_blend
        if donor not in ("photo", "render") or blend not in ("poisson", "feather"):
            raise GeneratorError(
                f"edit_splice: donor must be photo|render, blend poisson|feather; got {donor}, {blend}"
            )
        if donor == "photo":
            other = pick_photo(photos, seed=seed + 7919, exclude=photo.id)
            donor_img = fit_to_size(load_rgb(other.path), (h, w), rng=rng)
            donor_id = other.id
        else:
            donor_img = render_scene(prompt, seed=seed, size=(h, w))[0]
            donor_id = "procedural_scene"
        alpha = random_blob_mask(h, w, rng)
        # Take the donor content from a different place than where it lands.
        dy, dx = int(rng.integers(-h // 4, h // 4 + 1)), int(rng.integers(-w // 4, w // 4 + 1))
        donor_img = np.roll(donor_img, (dy, dx), axis=(0, 1))
        hard = alpha >= 0.5
        if blend == "poisson" and hard.sum() > 16:
            ys, xs = np.nonzero(hard)
            # seamlessClone needs the mask inside the image with a 1-px margin.
            m8 = (hard * 255).astype(np.uint8)
            m8[[0, -1], :] = 0
            m8[:, [0, -1]] = 0
            bx, by, bw, bh = cv2.boundingRect(m8)
            center = (bx + bw // 2, by + bh // 2)
            cloned = cv2.seamlessClone(
                np.ascontiguousarray(donor_img),
                np.ascontiguousarray(real),
                m8.copy(),  # OpenCV 5 overwrites the mask it is given
                center,
                cv2.NORMAL_CLONE,
            )
            mask = m8 > 0
            # seamlessClone also nudges a few pixels outside the mask; keep those real so the
            # mask is exactly the synthetic region.
            out = np.where(mask[..., None], cloned, real)
        else:
            soft = cv2.GaussianBlur(alpha, (0, 0), max(1.0, 0.01 * min(h, w)))
            # Cut the Gaussian's far tail so the edit ends a couple of sigmas outside the mask.
            soft = np.clip((soft - 0.02) / 0.96, 0, 1)[..., None]
            out = (real * (1 - soft) + donor_img * soft + 0.5).astype(np.uint8)
            mask = soft[..., 0] >= 0.5
            blend = "feather"
        return _result(
            self.name,
            out,
            mask,
            seed=seed,
            prompt=prompt,
            source=photo.id,
            params={
                "size": [h, w],
                "donor": donor,
                "donor_id": donor_id,
                "blend": blend,
                "source_path": str(src) if src else None,
            },
        )


class Inpaint:
    """Remove random strokes with OpenCV inpainting (registered as ``edit_inpaint``)."""

    name = "edit_inpaint"
    version = VERSION
    modality = "image"

    def __init__(self, *, source_path: str | Path | None = None) -> None:
        self.source_path = source_path

    def generate(
        self,
        prompt: str,
        *,
        seed: int,
        size: int | tuple[int, int] = 512,
        source_path: str | Path | None = None,
        method: str | None = None,
        radius: int | None = None,
        **params: Any,
    ) -> Generated:
        """Inpaint a random free-form mask of a real photo.

        Args:
            prompt: May name the photo; otherwise unused.
            seed: Chooses photo, crop, mask and (unless given) method and radius.
            size: Output side or (H, W).
            source_path: Photo file or folder (default: built-in real photos).
            method: ``"telea"`` or ``"ns"`` (Navier-Stokes).
            radius: Inpainting neighbourhood radius in pixels.
        """
        src = source_path if source_path is not None else self.source_path
        _, photo, real, rng, (h, w) = _photo_and_base(prompt, seed, size, src)
        drawn_method = "telea" if rng.random() < 0.5 else "ns"  # drawn always: see Splice
        drawn_radius = int(rng.integers(3, 8))
        method = method or drawn_method
        if method not in ("telea", "ns"):
            raise GeneratorError(f"edit_inpaint: method must be telea|ns, got {method!r}")
        radius = int(radius if radius is not None else drawn_radius)
        mask = random_stroke_mask(h, w, rng)
        flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        out = cv2.inpaint(np.ascontiguousarray(real), mask.astype(np.uint8) * 255, radius, flag)
        return _result(
            self.name,
            out,
            mask,
            seed=seed,
            prompt=prompt,
            source=photo.id,
            params={
                "size": [h, w],
                "method": method,
                "radius": radius,
                "source_path": str(src) if src else None,
            },
        )


@functools.lru_cache(maxsize=1)
def _face_cascade() -> Any | None:
    try:
        import skimage.data
        from skimage.feature import Cascade
    except ImportError:  # no scikit-image: regions are then always random
        return None
    xml = Path(skimage.data.__file__).parent / "lbpcascade_frontalface_opencv.xml"
    return Cascade(str(xml)) if xml.is_file() else None


def find_face(img: np.ndarray) -> tuple[int, int, int, int] | None:
    """Largest frontal face as (x, y, w, h) in ``img`` coordinates, or None.

    Detection runs on a copy at most 256 px wide (the LBP cascade is pure Python-speed).
    """
    cascade = _face_cascade()
    if cascade is None:
        return None
    h, w = img.shape[:2]
    s = min(1.0, 256 / max(h, w))
    small = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    side = min(grey.shape)
    if side < 32:
        return None
    found = cascade.detect_multi_scale(
        img=grey, scale_factor=1.2, step_ratio=1, min_size=(24, 24), max_size=(side, side)
    )
    if not found:
        return None
    best = max(found, key=lambda d: d["width"] * d["height"])
    return (int(best["c"] / s), int(best["r"] / s), int(best["width"] / s), int(best["height"] / s))


class RegionEdit:
    """Blur, pixelate or copy-move a face or random region (registered as ``edit_region``)."""

    name = "edit_region"
    version = VERSION
    modality = "image"

    def __init__(self, *, source_path: str | Path | None = None) -> None:
        self.source_path = source_path

    def generate(
        self,
        prompt: str,
        *,
        seed: int,
        size: int | tuple[int, int] = 512,
        source_path: str | Path | None = None,
        op: str | None = None,
        faces: bool = True,
        **params: Any,
    ) -> Generated:
        """Edit one region of a real photo.

        Args:
            prompt: May name the photo ("astronaut" has a face); otherwise unused.
            seed: Chooses photo, crop, region and (unless given) the operation.
            size: Output side or (H, W).
            source_path: Photo file or folder (default: built-in real photos).
            op: ``"blur"``, ``"pixelate"`` or ``"copy_move"``.
            faces: Look for a face first (False: always a random region, faster).
        """
        src = source_path if source_path is not None else self.source_path
        _, photo, real, rng, (h, w) = _photo_and_base(prompt, seed, size, src)
        drawn_op = str(rng.choice(["blur", "pixelate", "copy_move"]))  # drawn always: see Splice
        op = op or drawn_op
        if op not in ("blur", "pixelate", "copy_move"):
            raise GeneratorError(f"edit_region: op must be blur|pixelate|copy_move, got {op!r}")
        face = find_face(real) if faces else None
        region = np.zeros((h, w), np.uint8)
        if face is not None:
            fx, fy, fw, fh = face
            # An ellipse a little larger than the detector's box covers hair line and chin.
            cv2.ellipse(
                region,
                (fx + fw // 2, fy + fh // 2),
                (int(fw * 0.6), int(fh * 0.75)),
                0,
                0,
                360,
                255,
                -1,
                cv2.LINE_AA,
            )
            where = "face"
        else:
            region = (random_blob_mask(h, w, rng, area=(0.03, 0.12)) * 255).astype(np.uint8)
            where = "random"
        alpha = region.astype(np.float32)[..., None] / 255
        if op == "blur":
            k = max(1.5, 0.02 * min(h, w) * rng.uniform(0.7, 1.5))
            edited = cv2.GaussianBlur(real, (0, 0), k)
        elif op == "pixelate":
            block = max(2, int(min(h, w) * rng.uniform(0.015, 0.035)))
            small = cv2.resize(real, (max(1, w // block), max(1, h // block)), interpolation=cv2.INTER_AREA)
            edited = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        else:
            dy = int(rng.integers(h // 6, h // 2 + 1)) * (1 if rng.random() < 0.5 else -1)
            dx = int(rng.integers(w // 6, w // 2 + 1)) * (1 if rng.random() < 0.5 else -1)
            edited = np.roll(real, (dy, dx), axis=(0, 1))
        out = (real * (1 - alpha) + edited * alpha + 0.5).astype(np.uint8)
        mask = alpha[..., 0] >= 0.5
        return _result(
            self.name,
            out,
            mask,
            seed=seed,
            prompt=prompt,
            source=photo.id,
            params={
                "size": [h, w],
                "op": op,
                "region": where,
                "faces": bool(faces),
                "source_path": str(src) if src else None,
            },
        )


@register_generator(modality="image", label="partial")
def edit_splice(**kw: Any) -> Splice:
    """Factory: splice from another photo or a render, Poisson or feathered."""
    return Splice(**kw)


@register_generator(modality="image", label="partial")
def edit_inpaint(**kw: Any) -> Inpaint:
    """Factory: OpenCV inpainting of random strokes."""
    return Inpaint(**kw)


@register_generator(modality="image", label="partial")
def edit_region(**kw: Any) -> RegionEdit:
    """Factory: face/random region blur, pixelation or copy-move."""
    return RegionEdit(**kw)

"""provscan-image: embed -> attack -> detect round trips on real photos from the scikit-image wheel."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detector.settings import DEFAULT_WATERMARK_KEY
from detector.watermark import ecc
from detector.watermark import image as wimg  # noqa: F401  (registers the scheme)
from detector.watermark.base import WATERMARKS

skdata = pytest.importorskip("skimage.data")

PAYLOAD = "sd15:042"


def _jpeg(x: np.ndarray, q: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", x[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(float) - b.astype(float)) ** 2)))


ATTACKS = {
    "none": lambda x: x,
    "jpeg50": lambda x: _jpeg(x, 50),
    "resize0.5": lambda x: cv2.resize(x, (x.shape[1] // 2, x.shape[0] // 2), interpolation=cv2.INTER_AREA),
    "crop10": lambda x: x[
        int(0.07 * x.shape[0]) : int(0.97 * x.shape[0]), int(0.03 * x.shape[1]) : int(0.93 * x.shape[1])
    ],
    "brightness_contrast": lambda x: np.clip(x.astype(float) * 1.15 + 10, 0, 255).astype(np.uint8),
}


@pytest.fixture(scope="module")
def scheme():
    return WATERMARKS.create("provscan-image", key=DEFAULT_WATERMARK_KEY)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return skdata.coffee()  # 400 x 600 real photo


@pytest.fixture(scope="module")
def marked(scheme, photo) -> np.ndarray:
    return scheme.embed(photo, payload=PAYLOAD)


def test_registered_with_modality():
    assert "provscan-image" in WATERMARKS.list(modality="image")


def test_embed_keeps_shape_and_psnr(photo, marked):
    assert marked.shape == photo.shape and marked.dtype == np.uint8
    assert _psnr(photo, marked) >= 40.0
    assert not np.array_equal(photo, marked)


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_round_trip_survives_attack(scheme, marked, attack):
    res = scheme.detect(ATTACKS[attack](marked))
    assert res.detected, res.evidence
    assert res.payload == PAYLOAD
    assert res.p_value is not None and res.p_value < 1e-6
    assert 0.0 <= res.score <= 1.0


@pytest.fixture(scope="module")
def photos(scheme) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """More real photos (fur, a face, a brick wall) at a typical web size: (original, marked).

    The brick wall's own texture fooled the earlier single-peak scale search after a 0.5x resize
    (0.59 bit accuracy); it guards the comb search.
    """
    out = {}
    for name in ("chelsea", "astronaut", "brick"):
        img = getattr(skdata, name)()
        img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img
        img = cv2.resize(img, (600, 600), interpolation=cv2.INTER_AREA)
        out[name] = (img, scheme.embed(img, payload=PAYLOAD))
    return out


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_bit_accuracy_on_real_photos(scheme, photos, attack):
    # Regression guard for the issue-3 targets: every payload bit back after each attack, at
    # >= 40 dB PSNR, on two real photos besides the coffee cup.
    want = ecc.frame_bits(PAYLOAD)[:64]
    for name, (img, marked) in photos.items():
        assert _psnr(img, marked) >= 40.0
        bits = scheme.decode_bits(ATTACKS[attack](marked))
        assert bits is not None
        acc = float(np.mean(bits[:64] == want))
        assert acc >= 0.99, (name, attack, acc)


def test_resize_of_arbitrary_factor_and_aspect(scheme, photos):
    _, marked = photos["astronaut"]
    for size in ((420, 420), (330, 300), (780, 780)):
        res = scheme.detect(cv2.resize(marked, size, interpolation=cv2.INTER_AREA))
        assert res.detected and res.payload == PAYLOAD, (size, res.evidence)


def test_unmarked_is_a_cheap_read(scheme, photos):
    # Most scanned images carry no mark: the detector must not try every scale on them.
    for img, _ in photos.values():
        res = scheme.detect(img)
        assert not res.detected
        assert res.evidence["candidates"] <= 1 + wimg.MAX_CANDIDATES


def test_unmarked_and_wrong_key_not_detected(scheme, photo, marked):
    for img in (photo, skdata.astronaut(), skdata.chelsea()):
        res = scheme.detect(img)
        assert not res.detected and res.payload is None
        assert res.p_value > 1e-4
    other = WATERMARKS.create("provscan-image", key="another-instance-key")
    res = other.detect(marked)
    assert not res.detected and res.payload is None


def _gradient(h: int, w: int, corners: list[tuple[int, int, int]]) -> np.ndarray:
    """A two-axis colour gradient (what the C2PA test image C.jpg is): smooth, no camera noise."""
    c = np.asarray(corners, np.float32)
    fy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    fx = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    img = c[0] * (1 - fy) * (1 - fx) + c[1] * (1 - fy) * fx + c[2] * fy * (1 - fx) + c[3] * fy * fx
    return img.astype(np.uint8)


@pytest.mark.parametrize("q", [60, 75])
def test_smooth_graphics_are_not_reported_as_marked(scheme, c2pa_fixtures, q):
    """Quantisation bands and JPEG blocks of a smooth image correlate with *any* pilot (z 6-9): the
    decoy pilots say so, and the p-value follows them. Before the decoy null, the C2PA fixture C.jpg
    read as marked (p 2.5e-8) and so did 30 % of a set of unmarked gradients and slides."""
    from PIL import Image

    fixture = np.asarray(Image.open(c2pa_fixtures / "C.jpg").convert("RGB"))
    for img in (fixture, _jpeg(_gradient(683, 1024, [(20, 90, 40), (250, 110, 0), (0, 110, 250), (250, 90, 250)]), q)):
        res = scheme.detect(img)
        assert not res.detected and res.p_value > 1e-4
        # The image lights up the decoys as much as the real pilot: that is the evidence shown.
        assert res.evidence["decoy_z_median"] > 5.0 and res.evidence["z"] < res.evidence["decoy_z_median"] + 2


def test_marks_stand_far_above_their_decoys(scheme, marked):
    res = scheme.detect(_jpeg(marked, 50))
    assert res.detected and res.payload == PAYLOAD
    assert res.evidence["z"] > res.evidence["decoy_z_median"] + 5


def test_grey_and_empty_payload(scheme):
    cam = np.repeat(skdata.camera()[..., None], 3, axis=2)
    res = scheme.detect(scheme.embed(cam))
    assert res.detected and res.payload is None


def test_decode_bits_are_the_frame(scheme, marked):
    bits = scheme.decode_bits(_jpeg(marked, 75))
    assert np.array_equal(bits, ecc.frame_bits(PAYLOAD))


def test_payload_limits(scheme, photo):
    with pytest.raises(ecc.WatermarkPayloadError):
        scheme.embed(photo, payload="nine byte")
    with pytest.raises(ecc.WatermarkPayloadError):
        scheme.embed(photo, payload="a\x00b")
    res = scheme.detect(scheme.embed(photo, payload="é✓x"))  # multi-byte UTF-8, 6 bytes
    assert res.payload == "é✓x"


def test_tiny_or_odd_inputs_do_not_raise(scheme):
    assert not scheme.detect(np.zeros((20, 20, 3), np.uint8)).detected
    assert not scheme.detect(np.full((300, 300, 3), 128, np.uint8)).detected


def test_ecc_corrects_errors(rng):
    coded = ecc.encode_payload("abc")
    soft = (coded * 2.0 - 1.0) + rng.normal(0, 0.9, coded.size)
    ok, payload, _ = ecc.decode_payload(soft)
    assert ok and payload == "abc"
    ok, payload, _ = ecc.decode_payload(rng.normal(size=coded.size))
    assert not ok and payload is None

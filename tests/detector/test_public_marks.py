"""Stable Diffusion's public dwtDct marks (SD 1.x/2.x "StableDiffusionV1" and SDXL's 48 bits)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detector.watermark import public
from detector.watermark.base import WATERMARKS

skdata = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return skdata.astronaut()


@pytest.mark.parametrize("variant", ["StableDiffusionV1", "SDXL"])
def test_embed_detect_each_variant(photo, variant):
    mark = WATERMARKS.create("stable-diffusion", key="ignored")
    res = mark.detect(public.embed_stable_diffusion(photo, variant=variant))
    assert res.scheme == "stable-diffusion" and res.detected
    assert res.payload == variant
    assert res.evidence["bit_accuracy"] == 1.0


def test_clean_photos_not_detected(photo):
    mark = public.StableDiffusionMark()
    for img in (photo, skdata.coffee(), skdata.chelsea()):
        res = mark.detect(img)
        assert not res.detected and res.payload is None


def test_mark_is_fragile_to_resize(photo):
    marked = public.embed_stable_diffusion(photo)
    small = cv2.resize(marked, (384, 384), interpolation=cv2.INTER_AREA)
    assert not public.StableDiffusionMark().detect(small).detected


def test_matches_invisible_watermark_library(photo):
    imw = pytest.importorskip("imwatermark")
    bgr = np.ascontiguousarray(photo[..., ::-1])
    enc = imw.WatermarkEncoder()
    enc.set_watermark("bytes", public.SD1_PAYLOAD)
    theirs = enc.encode(bgr.copy(), "dwtDct")
    assert public.StableDiffusionMark().detect(theirs[..., ::-1]).payload == "StableDiffusionV1"
    ours = public.embed_dwtdct(bgr.copy(), public.SD1_BITS)
    dec = imw.WatermarkDecoder("bytes", 136)
    assert dec.decode(ours, "dwtDct") == public.SD1_PAYLOAD
    enc_xl = imw.WatermarkEncoder()
    enc_xl.set_watermark("bits", [int(b) for b in bin(public.SDXL_MESSAGE)[2:]])
    assert (
        public.StableDiffusionMark().detect(enc_xl.encode(bgr.copy(), "dwtDct")[..., ::-1]).payload == "SDXL"
    )


def test_small_image_rejected_for_embed_and_safe_for_detect():
    with pytest.raises(ValueError):
        public.embed_stable_diffusion(np.zeros((100, 100, 3), np.uint8))
    assert not public.StableDiffusionMark().detect(np.zeros((4, 4, 3), np.uint8)).detected

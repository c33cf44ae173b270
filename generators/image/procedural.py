"""Procedural scene renderer: a prompt's keywords become a layered landscape (numpy + OpenCV).

"a sunset over a mountain lake" -> sunset sky gradient, low sun with glow, clouds from fractal
noise, two or three mountain ranges with atmospheric perspective, and a lake mirroring them with
ripples. Unknown words are ignored; a prompt with no known word gets a seeded random scene. The
output has the smooth gradients and noise-synthesised textures of a render, not a camera's
demosaicing, lens and sensor noise: that is the fingerprint detectors should learn.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from generators.base import Generated, register_generator
from generators.image.photos import parse_size

VERSION = "1.0"

# Keyword vocabulary: feature -> words that switch it on. Plurals are matched by stripping "s".
VOCAB: dict[str, tuple[str, ...]] = {
    # time of day (exactly one is chosen)
    "dawn": ("dawn", "sunrise", "daybreak", "morning"),
    "day": ("day", "noon", "midday", "afternoon", "daytime", "sunny", "bright"),
    "sunset": ("sunset", "dusk", "evening", "golden", "sundown"),
    "twilight": ("twilight", "blue-hour", "gloaming"),
    "night": ("night", "midnight", "nighttime", "starry", "star", "moonlit", "moonlight", "dark"),
    # weather
    "cloudy": ("cloud", "cloudy", "overcast", "grey", "gray", "storm", "stormy", "rain", "rainy"),
    "clear": ("clear", "cloudless"),
    "fog": ("fog", "foggy", "mist", "misty", "haze", "hazy", "smoke"),
    "snow": ("snow", "snowy", "winter", "frozen", "icy", "glacier", "alpine"),
    "autumn": ("autumn", "fall", "autumnal"),
    # landforms
    "mountain": ("mountain", "peak", "alp", "alps", "range", "summit", "volcano", "cliff", "ridge"),
    "hill": ("hill", "hillside", "valley", "countryside", "rolling"),
    "water": ("lake", "river", "pond", "sea", "ocean", "bay", "water", "reflection", "harbor", "harbour", "fjord", "coast", "shore", "beach", "loch"),
    "beach": ("beach", "shore", "coast", "sand", "sandy"),
    "desert": ("desert", "dune", "sahara", "arid", "canyon"),
    "forest": ("forest", "wood", "woods", "woodland", "tree", "pine", "jungle", "grove", "spruce", "fir"),
    "pine": ("pine", "spruce", "fir", "conifer", "evergreen", "taiga"),
    "field": ("field", "meadow", "grass", "grassland", "farm", "farmland", "prairie", "pasture", "wheat", "crop", "plain"),
    "wheat": ("wheat", "harvest", "barley", "hay", "cornfield", "golden"),
    "city": ("city", "skyline", "town", "building", "downtown", "skyscraper", "urban", "metropolis", "village", "hamlet", "house"),
    "village": ("village", "town", "hamlet", "house", "cottage"),
    "moon": ("moon", "moonlit", "moonlight", "full-moon"),
    "sun": ("sun", "sunny", "sunlight", "sunlit"),
    "stars": ("star", "starry", "stars", "galaxy", "milky"),
}  # fmt: skip
TIMES = ("dawn", "day", "sunset", "twilight", "night")

# (zenith RGB, horizon RGB, sun/moon RGB, light level on the land)
PALETTES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "dawn": ((0.30, 0.42, 0.68), (1.00, 0.72, 0.52), (1.00, 0.88, 0.70), (0.78, 0.72, 0.70)),
    "day": ((0.16, 0.40, 0.80), (0.70, 0.83, 0.96), (1.00, 1.00, 0.95), (1.00, 1.00, 1.00)),
    "sunset": ((0.16, 0.14, 0.38), (1.00, 0.50, 0.22), (1.00, 0.70, 0.35), (0.66, 0.52, 0.48)),
    "twilight": ((0.06, 0.08, 0.26), (0.62, 0.45, 0.58), (0.95, 0.90, 0.85), (0.35, 0.36, 0.48)),
    "night": ((0.005, 0.01, 0.04), (0.05, 0.08, 0.17), (0.95, 0.95, 0.88), (0.17, 0.19, 0.28)),
}


def stable_seed(seed: int, prompt: str) -> np.random.Generator:
    """An RNG that depends on seed and prompt, identical across processes (unlike ``hash``)."""
    digest = hashlib.sha256(prompt.strip().lower().encode()).digest()
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, int.from_bytes(digest[:4], "big")])


def parse_prompt(prompt: str) -> set[str]:
    """The set of scene features a prompt names (unknown words are ignored)."""
    words = set()
    for w in re.findall(r"[a-z][a-z\-]*", prompt.lower()):
        words.add(w)
        if w.endswith("s") and len(w) > 3:
            words.add(w[:-1])
        if w.endswith("es") and len(w) > 4:
            words.add(w[:-2])
    return {feat for feat, keys in VOCAB.items() if words.intersection(keys)}


@dataclass(frozen=True)
class SceneSpec:
    """What will be drawn; recorded in ``Generated.params`` so the scene is inspectable."""

    time: str
    features: tuple[str, ...]
    horizon: float
    sun_x: float
    sun_y: float
    extras: dict[str, Any] = field(default_factory=dict)


def plan_scene(prompt: str, rng: np.random.Generator) -> SceneSpec:
    """Turn keywords into a scene plan; missing choices are filled in from ``rng``."""
    feats = parse_prompt(prompt)
    times = [t for t in TIMES if t in feats]
    time = times[0] if times else str(rng.choice(TIMES, p=[0.15, 0.4, 0.25, 0.08, 0.12]))
    land = {"mountain", "hill", "water", "desert", "forest", "field", "city", "beach"}
    if not feats & land:
        # A prompt without landforms still gets a landscape: two random ones.
        feats |= set(rng.choice(sorted(land - {"beach"}), size=2, replace=False).tolist())
    if "desert" in feats:
        feats -= {"snow", "forest"}
    if time == "night" and "clear" not in feats and "cloudy" not in feats:
        feats.add("stars")
    if time == "night" and "sun" not in feats:
        feats.add("moon")
    if "cloudy" not in feats and "clear" not in feats and rng.random() < 0.6:
        feats.add("fewclouds")
    horizon = float(rng.uniform(0.5, 0.62)) if "mountain" in feats else float(rng.uniform(0.55, 0.7))
    sun_x = float(rng.uniform(0.2, 0.8))
    sun_y = {"dawn": 0.85, "sunset": 0.8, "day": 0.25, "twilight": 1.05, "night": 0.3}[time]
    sun_y = float(sun_y + rng.uniform(-0.08, 0.08))
    return SceneSpec(time, tuple(sorted(feats)), horizon, sun_x, sun_y)


# ---------------------------------------------------------------- noise helpers


def fbm2d(
    h: int, w: int, rng: np.random.Generator, *, base: int = 4, octaves: int = 5, gain: float = 0.5
) -> np.ndarray:
    """Fractal Brownian motion: sum of bicubically upsampled random grids, roughly in [-1, 1]."""
    if h * w > 256 * 256:
        # Above 256x256, synthesise at half size and upsample once: resizing every octave to full
        # size was half the render time, and the finest octave is softened by the final blur anyway.
        small = fbm2d(max(2, h // 2), max(2, w // 2), rng, base=base, octaves=octaves, gain=gain)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        gh = max(2, round(base * 2**o * h / max(h, w)))
        gw = max(2, round(base * 2**o * w / max(h, w)))
        if o and (gh > h or gw > w):
            break
        # The first octave always runs (clamped), so tiny images still get noise, never 0 / 0.
        gh, gw = min(gh, max(h, 2)), min(gw, max(w, 2))
        grid = rng.standard_normal((gh + 3, gw + 3)).astype(np.float32)
        up = cv2.resize(grid, (w * (gw + 3) // gw, h * (gh + 3) // gh), interpolation=cv2.INTER_CUBIC)
        out += amp * up[:h, :w]
        total += amp
        amp *= gain
    return out / total


def _ridge(n: int, rng: np.random.Generator, *, base: int, octaves: int, sharp: bool) -> np.ndarray:
    r = np.zeros(n, np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        k = base * 2**o
        if k >= n:
            break
        grid = rng.standard_normal(k + 3).astype(np.float32)
        up = cv2.resize(grid[None, :], (n * (k + 3) // k, 1), interpolation=cv2.INTER_CUBIC)[0, :n]
        # 1 - |noise| gives the sharp crests of real ridges (coarse octaves only, or the line turns
        # into spikes); plain noise gives rolling hills and the fine detail.
        r += amp * ((1.0 - np.abs(up)) if sharp and o < 2 else up)
        total += amp
        amp *= 0.5
    r /= total
    return (r - r.min()) / max(float(np.ptp(r)), 1e-6)


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    return a + (b - a) * t


# ---------------------------------------------------------------- layers


class _Canvas:
    def __init__(self, h: int, w: int, spec: SceneSpec, rng: np.random.Generator) -> None:
        self.h, self.w, self.spec, self.rng = h, w, spec, rng
        self.img = np.zeros((h, w, 3), np.float32)
        zen, hor, sun, light = (np.array(c, np.float32) for c in PALETTES[spec.time])
        if "cloudy" in spec.features:
            grey = np.array([0.62, 0.64, 0.68], np.float32) * (0.35 + 0.65 * light.mean())
            zen, hor = _lerp(zen, grey, 0.7), _lerp(hor, grey * 1.1, 0.6)
            light = light * 0.8
        jitter = rng.uniform(0.92, 1.08, 3).astype(np.float32)
        self.zen, self.hor, self.sun_c, self.light = zen * jitter, np.clip(hor * jitter, 0, 1), sun, light
        self.hy = int(spec.horizon * h)  # horizon row
        self.yy, self.xx = np.mgrid[0:h, 0:w].astype(np.float32)
        self.sun_px = (spec.sun_x * w, spec.sun_y * self.hy)

    def has(self, f: str) -> bool:
        return f in self.spec.features

    def haze(self, depth: float) -> np.ndarray:
        """Colour far things fade to (atmospheric perspective)."""
        return _lerp(self.hor, self.zen, 0.15) * (0.9 if self.spec.time != "night" else 1.0)

    # sky -------------------------------------------------------------
    def sky(self) -> None:
        h, w, hy = self.h, self.w, self.hy
        t = np.clip(self.yy / max(hy, 1), 0, 1)[..., None] ** 1.6
        self.img[:] = _lerp(self.zen, self.hor, t)
        sx, sy = self.sun_px
        d = np.sqrt((self.xx - sx) ** 2 + ((self.yy - sy) * 1.3) ** 2) / max(h, w)
        if self.spec.time in ("dawn", "sunset", "day", "twilight"):
            strength = {"dawn": 0.55, "sunset": 0.7, "day": 0.25, "twilight": 0.2}[self.spec.time]
            if self.has("cloudy"):
                strength *= 0.4
            glow = strength * np.exp(-d / 0.16) + 0.5 * strength * np.exp(-d / 0.04)
            self.img += glow[..., None] * (self.sun_c - 0.3 * self.img)
        if self.has("stars"):
            n = int(h * w / 350)
            ys = self.rng.integers(0, max(hy, 1), n)
            xs = self.rng.integers(0, w, n)
            mag = self.rng.pareto(3.0, n).astype(np.float32) * 0.25 + 0.05
            fade = np.clip(1 - ys / max(hy, 1) * 1.1, 0, 1)
            stars = np.zeros((h, w), np.float32)
            np.add.at(stars, (ys, xs), mag * fade)
            stars = cv2.GaussianBlur(stars, (0, 0), 0.6) * 2.5
            self.img += stars[..., None] * np.array([0.9, 0.95, 1.0], np.float32)

    def clouds(self) -> None:
        if not (self.has("cloudy") or self.has("fewclouds")):
            return
        h, w, hy = self.h, self.w, self.hy
        n = fbm2d(h, w, self.rng, base=3, octaves=6, gain=0.55)
        # Clouds flatten towards the horizon (perspective): squash a taller noise field into the sky.
        tall = fbm2d(2 * h, w, self.rng, base=3, octaves=6, gain=0.55)
        ys = (2 * h - 1) * (self.yy[:, :1] / max(h - 1, 1)) ** 0.6
        n = 0.5 * n + 0.5 * cv2.remap(
            tall, self.xx, np.repeat(ys, w, axis=1).astype(np.float32), cv2.INTER_LINEAR
        )
        cover = 0.65 if self.has("cloudy") else self.rng.uniform(0.15, 0.35)
        thr = np.quantile(n[:hy], 1 - cover) if hy > 0 else 0.0
        dens = np.clip((n - thr) / 0.35, 0, 1) ** 0.8
        dens *= np.clip((hy - self.yy) / max(0.15 * hy, 1), 0, 1)
        # Lit from the sun side: tops brighter, bases darker (shift noise for a cheap normal).
        shifted = np.concatenate([n[:1].repeat(6, axis=0), n[:-6]], axis=0)
        lit = np.clip(0.5 + 3.0 * (n - shifted), 0.2, 1.0)
        sun_tint = self.sun_c if self.spec.time != "night" else np.array([0.18, 0.2, 0.28], np.float32)
        base = _lerp(self.zen * 0.6 + 0.25 * self.light.mean(), sun_tint * self.light.mean(), 0.55)
        if self.spec.time in ("sunset", "dawn"):
            base = _lerp(base, np.array([1.0, 0.55, 0.45], np.float32), 0.35)
        col = base[None, None, :] * (0.55 + 0.55 * lit[..., None])
        if self.has("cloudy"):
            col = _lerp(col, np.full(3, 0.55 * (0.35 + 0.65 * self.light.mean()), np.float32), 0.5)
        a = (dens * (0.95 if self.has("cloudy") else 0.85))[..., None]
        self.img = _lerp(self.img, col, a)

    def sun_disc(self) -> None:
        sx, sy = self.sun_px
        if self.has("moon") or self.spec.time == "night":
            if not self.has("moon"):
                return
            r = 0.035 * max(self.h, self.w)
            sy = min(sy, self.hy - 2 * r)
            d = np.sqrt((self.xx - sx) ** 2 + (self.yy - sy) ** 2)
            disc = np.clip(r - d + 0.5, 0, 1)
            crater = 0.85 + 0.15 * fbm2d(self.h, self.w, self.rng, base=40, octaves=2)
            self.img = _lerp(self.img, (self.sun_c * crater[..., None]), disc[..., None])
            glow = 0.25 * np.exp(-np.maximum(d - r, 0) / (3 * r))
            self.img += glow[..., None] * np.array([0.6, 0.65, 0.8], np.float32)
            self.sun_px = (sx, sy)
        elif self.spec.time != "twilight" and not self.has("cloudy"):
            r = 0.028 * max(self.h, self.w)
            d = np.sqrt((self.xx - sx) ** 2 + (self.yy - sy) ** 2)
            disc = np.clip(r - d + 0.5, 0, 1)
            self.img = _lerp(self.img, np.minimum(self.sun_c * 1.15, 1.0), disc[..., None])

    # land ------------------------------------------------------------
    def _fill(self, top: np.ndarray, color_fn, bottom: int | None = None) -> np.ndarray:
        """Paint every pixel below ridgeline ``top`` (per column) with ``color_fn(mask)``; AA edge."""
        bottom = self.h if bottom is None else bottom
        cover = np.clip(self.yy - top[None, :] + 0.5, 0, 1) * (self.yy < bottom)
        col = color_fn()
        self.img = _lerp(self.img, col, cover[..., None])
        return cover

    def mountains(self) -> None:
        h, w, hy = self.h, self.w, self.hy
        n_layers = int(self.rng.integers(2, 4))
        for i in range(n_layers):
            depth = 1.0 - i / n_layers  # 1 = farthest
            amp = (0.42 - 0.1 * i) * hy * self.rng.uniform(0.8, 1.15)
            ridge = _ridge(w, self.rng, base=int(self.rng.integers(2, 4)), octaves=8, sharp=True)
            ridge = ridge**1.3
            top = hy - 0.02 * h * i - amp * ridge
            rock = np.array([0.36, 0.33, 0.31], np.float32) * self.rng.uniform(0.8, 1.2)
            if self.has("desert"):
                rock = np.array([0.62, 0.42, 0.28], np.float32)
            tex = fbm2d(h, w, self.rng, base=8, octaves=6, gain=0.6)
            # Slope shading: light from the sun's side using the ridge gradient, smoothed and fading
            # below the crest (a per-column gradient alone paints vertical stripes).
            slope = cv2.GaussianBlur(np.gradient(top)[None, :].astype(np.float32), (0, 0), 3)
            slope = slope * (1 if self.spec.sun_x > 0.5 else -1)
            below = np.exp(-np.maximum(self.yy - top[None, :], 0) / (0.25 * amp + 1))
            warp = fbm2d(h, w, self.rng, base=12, octaves=4)
            shade = np.clip(0.75 + 0.12 * slope * below + 0.2 * tex + 0.15 * warp * (1 - below), 0.35, 1.2)
            snow_line = top[None, :] + (hy - top[None, :]) * (0.45 if self.has("snow") else 0.18)
            snowy = self.has("snow") or (depth > 0.6 and amp > 0.3 * hy and not self.has("desert"))
            snow_mask = np.clip((snow_line - self.yy) / 4 + 2.0 * tex, 0, 1) * float(snowy)

            def color(rock=rock, shade=shade, snow_mask=snow_mask, depth=depth):
                c = rock[None, None, :] * shade[..., None]
                c = _lerp(
                    c,
                    np.array([0.93, 0.94, 0.97], np.float32) * shade[..., None] ** 0.5,
                    snow_mask[..., None],
                )
                c = c * self.light
                return _lerp(c, self.haze(depth), 0.65 * depth**1.5 + (0.25 if self.has("fog") else 0.0))

            self._fill(top, color, bottom=hy + int(0.02 * h * i) + 2)

    def hills(self) -> None:
        h, w, hy = self.h, self.w, self.hy
        for i in range(2):
            depth = 0.6 - 0.3 * i
            ridge = _ridge(w, self.rng, base=2, octaves=4, sharp=False)
            top = hy - (0.12 - 0.04 * i) * h * ridge - 0.01 * h
            green = (
                np.array([0.30, 0.45, 0.18], np.float32)
                if not self.has("autumn")
                else np.array([0.55, 0.42, 0.18], np.float32)
            )
            if self.has("snow"):
                green = np.array([0.85, 0.87, 0.9], np.float32)
            if self.has("desert"):
                green = np.array([0.78, 0.6, 0.38], np.float32)
            tex = fbm2d(h, w, self.rng, base=10, octaves=5)

            def color(green=green, tex=tex, depth=depth):
                c = green[None, None, :] * (0.85 + 0.25 * tex[..., None]) * self.light
                return _lerp(c, self.haze(depth), 0.5 * depth)

            self._fill(top, color, bottom=hy + 3)

    def city(self) -> None:
        h, w, hy = self.h, self.w, self.hy
        top = np.full(w, float(hy), np.float32)
        lit = np.zeros((h, w), np.float32)
        x = 0
        night = self.spec.time in ("night", "twilight", "sunset")
        while x < w:
            bw = int(self.rng.integers(max(4, w // 40), max(6, w // 12)))
            bh = float(self.rng.gamma(2.0, 0.06) * h + 0.02 * h)
            if self.has("village"):  # low houses, not towers
                bh = float(self.rng.uniform(0.015, 0.05) * h)
            top[x : x + bw] = min(hy - bh, top[x : x + bw].min()) if self.rng.random() < 0.15 else hy - bh
            if night:
                # Lit windows: a sparse grid inside the building.
                for wy in range(int(hy - bh) + 3, hy - 2, max(3, h // 120)):
                    for wx in range(x + 2, min(x + bw - 2, w), max(3, w // 120)):
                        if self.rng.random() < 0.35:
                            lit[wy : wy + 2, wx : wx + 2] = self.rng.uniform(0.6, 1.0)
            x += bw + int(self.rng.integers(0, max(2, w // 100)))
        base = np.array([0.25, 0.27, 0.32], np.float32) * (self.light * 0.8 + 0.1)
        tex = fbm2d(h, w, self.rng, base=30, octaves=2)
        xs_shade = ((self.xx // max(4, w // 40)) % 2) * 0.06

        def color():
            c = base[None, None, :] * (0.9 + 0.15 * tex[..., None] - xs_shade[..., None])
            c = _lerp(c, self.haze(0.5), 0.3 if not self.has("fog") else 0.6)
            return c + lit[..., None] * np.array([1.0, 0.8, 0.45], np.float32)

        self._fill(top, color, bottom=hy + 2)

    def ground(self) -> None:
        h, w, hy = self.h, self.w, self.hy
        depth = np.clip((self.yy - hy) / max(h - hy, 1), 0, 1)[..., None]
        tex = fbm2d(h, w, self.rng, base=16, octaves=6, gain=0.6)
        # Perspective: texture rows are compressed near the horizon.
        if self.has("desert") or self.has("beach"):
            dune = np.sin((self.xx * 0.012 + 10 * fbm2d(h, w, self.rng, base=3, octaves=3)) + self.yy * 0.05)
            col = np.array([0.85, 0.68, 0.45], np.float32) * (
                0.9 + 0.08 * dune[..., None] + 0.06 * tex[..., None]
            )
        elif self.has("snow"):
            col = np.array([0.88, 0.9, 0.95], np.float32) * (0.92 + 0.06 * tex[..., None])
        else:
            grass = (
                np.array([0.28, 0.42, 0.14], np.float32)
                if not self.has("autumn")
                else np.array([0.5, 0.38, 0.15], np.float32)
            )
            if self.has("field"):
                golden = self.rng.random() >= 0.5 or self.has("wheat")
                grass = np.array([0.72, 0.6, 0.28] if golden else [0.45, 0.55, 0.2], np.float32)
            col = grass * (0.85 + 0.3 * tex[..., None])
            if self.has("field"):
                # Crop rows converging to a vanishing point on the horizon.
                vx = self.rng.uniform(0.3, 0.7) * w
                ang = np.arctan2(self.xx - vx, np.maximum(self.yy - hy, 1))
                rows = 0.5 + 0.5 * np.sin(ang * 90)
                col = col * (0.88 + 0.16 * rows[..., None] * depth)
        col = col * (0.75 + 0.35 * depth) * self.light
        col = _lerp(col, self.haze(1.0), 0.4 * (1 - depth) ** 3)
        mask = (self.yy >= hy)[..., None]
        self.img = np.where(mask, col, self.img)

    def water(self) -> None:
        h, w, hy = self.h, self.w, self.hy
        # On a beach the sea lies between horizon and shoreline and the sand is in front of it.
        shore = hy + int(self.rng.uniform(0.35, 0.6) * (h - hy)) if self.has("beach") else h
        rows = np.arange(h, dtype=np.float32)
        # Mirror about the horizon line, with ripples that grow towards the viewer.
        k = np.clip((self.yy - hy) / max(h - hy, 1), 0, 1)
        ripple = fbm2d(h, w, self.rng, base=6, octaves=5)
        wave = np.sin(self.yy * (0.4 + 0.6 * (1 - k)) + 8 * ripple)
        map_x = self.xx + (1 + 6 * k) * wave * 0.8
        map_y = 2 * hy - self.yy + (1 + 10 * k) * ripple * 1.5
        map_y = np.clip(map_y, 0, hy - 1)
        refl = cv2.remap(
            self.img, map_x, map_y.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        refl = cv2.GaussianBlur(refl, (0, 0), 1.2)
        water_c = _lerp(np.array([0.1, 0.22, 0.3], np.float32), self.zen, 0.4) * self.light
        fres = (0.35 + 0.45 * (1 - k))[..., None]  # far water reflects more (Fresnel)
        col = _lerp(water_c, refl * 0.9, fres)
        col += 0.05 * wave[..., None] * k[..., None] * self.light.mean()
        if self.spec.time != "night" or self.has("moon"):
            sx = self.sun_px[0]
            streak = np.exp(-np.abs(self.xx - sx) / (0.02 * w + 0.08 * w * k)) * np.clip(wave, 0, 1) ** 3
            streak_s = {"sunset": 0.6, "dawn": 0.5, "day": 0.3, "night": 0.4, "twilight": 0.15}[
                self.spec.time
            ]
            if self.has("cloudy"):
                streak_s *= 0.3
            col += (streak * streak_s)[..., None] * self.sun_c
        edge = shore + 0.02 * h * ripple  # a wavy shoreline
        mask = ((rows[:, None] >= hy) & (self.yy < edge)).astype(np.float32)[..., None]
        self.img = _lerp(self.img, col, mask)
        if self.has("beach"):
            # Foam where the sea meets the sand.
            foam = np.exp(-np.abs(self.yy - edge + 1) / (0.004 * h + 0.5)) * 0.5
            self.img += foam[..., None] * self.light

    def trees(self) -> None:
        h, w, hy = self.h, self.w, self.hy
        pine = self.has("pine") or self.has("snow") or self.has("mountain") or self.rng.random() < 0.5
        foliage = (
            np.array([0.08, 0.2, 0.08], np.float32)
            if not self.has("autumn")
            else np.array([0.55, 0.25, 0.06], np.float32)
        )
        # Far treeline (small, dense) then a few large trees in the foreground at the sides.
        rows = [
            (hy + 1, 0.045 * h, int(w / (0.012 * w + 2)), 0.55),
            (h * 1.02, (0.7 if pine else 0.45) * h, int(self.rng.integers(2, 5)), 0.0),
        ]
        if self.has("water"):
            rows = [(hy + 1, 0.05 * h, int(w / (0.012 * w + 2)), 0.55)]
        for base_y, size, count, depth in rows:
            layer = np.zeros((h, w), np.uint8)
            shade_l = np.zeros((h, w), np.uint8)
            if depth == 0.0:
                xs = (
                    np.concatenate(
                        [
                            self.rng.uniform(-0.05, 0.22, count // 2 + 1),
                            self.rng.uniform(0.78, 1.05, count - count // 2),
                        ]
                    )
                    * w
                )
            else:
                xs = np.sort(self.rng.uniform(0, w, count))
            for x in xs:
                s = size * self.rng.uniform(0.6, 1.3)
                by = base_y + self.rng.uniform(-0.01, 0.01) * h
                if pine:
                    tiers = 4
                    for t in range(tiers):
                        ty = by - s * t / tiers * 0.9
                        tw = s * 0.28 * (1 - t / tiers * 0.7)
                        tip = ty - s * 0.45
                        jag = self.rng.uniform(-0.15, 0.15, 2) * tw
                        pts = np.array([[x - tw + jag[0], ty], [x + tw + jag[1], ty], [x, tip]], np.float32)
                        cv2.fillPoly(layer, [np.round(pts * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
                        half = np.array([[x, ty], [x + tw + jag[1], ty], [x, tip]], np.float32)
                        cv2.fillPoly(
                            shade_l, [np.round(half * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2
                        )
                else:
                    cv2.rectangle(
                        layer, (int(x - s * 0.03), int(by - s * 0.4)), (int(x + s * 0.03), int(by)), 255, -1
                    )
                    for _ in range(7):
                        cx = x + self.rng.normal(0, s * 0.14)
                        cy = by - s * 0.55 + self.rng.normal(0, s * 0.12)
                        r = s * self.rng.uniform(0.12, 0.22)
                        cv2.circle(
                            layer, (int(cx * 4), int(cy * 4)), int(r * 4), 255, -1, cv2.LINE_AA, shift=2
                        )
                        cv2.circle(
                            shade_l,
                            (int((cx + r * 0.4) * 4), int((cy - r * 0.3) * 4)),
                            int(r * 0.6 * 4),
                            255,
                            -1,
                            cv2.LINE_AA,
                            shift=2,
                        )
            a = layer.astype(np.float32)[..., None] / 255
            lit = (shade_l.astype(np.float32)[..., None] / 255) * (a > 0)
            tex = fbm2d(h, w, self.rng, base=int(40 / max(depth, 0.3)), octaves=3)[..., None]
            col = foliage * (0.8 + 0.4 * tex + 0.35 * lit) * self.light
            if self.has("snow"):
                col = _lerp(
                    col,
                    np.array([0.85, 0.88, 0.92], np.float32) * self.light,
                    0.35 * np.clip(tex + 0.3, 0, 1),
                )
            col = _lerp(col, self.haze(depth), 0.45 * depth)
            self.img = _lerp(self.img, col, a)

    def fog(self) -> None:
        if not self.has("fog"):
            return
        h, hy = self.h, self.hy
        n = fbm2d(self.h, self.w, self.rng, base=3, octaves=4)
        band = np.exp(-(((self.yy - hy) / (0.18 * h)) ** 2)) * (0.55 + 0.3 * n)
        fog_c = _lerp(self.hor, np.full(3, 0.8, np.float32), 0.5) * (0.4 + 0.6 * self.light.mean())
        self.img = _lerp(self.img, fog_c, np.clip(band, 0, 0.9)[..., None] + 0.15)

    def finish(self) -> np.ndarray:
        h, w = self.h, self.w
        # Lens-like touches a renderer adds: vignette and a faint blur; no sensor noise on purpose.
        r = np.sqrt(((self.xx - w / 2) / w) ** 2 + ((self.yy - h / 2) / h) ** 2)
        self.img *= (1 - 0.25 * r**2)[..., None]
        img = cv2.GaussianBlur(self.img, (0, 0), 0.5)
        return (np.clip(img, 0, 1) ** (1 / 1.05) * 255 + 0.5).astype(np.uint8)


def render_scene(
    prompt: str, *, seed: int = 0, size: int | tuple[int, int] = 512
) -> tuple[np.ndarray, SceneSpec]:
    """Render a landscape for ``prompt``.

    Args:
        prompt: Free text; known keywords (see ``VOCAB``) choose time of day, weather and landforms.
        seed: Seeds every random choice together with the prompt.
        size: Output side or (H, W).

    Returns:
        (HxWx3 uint8 RGB image, the scene plan that was drawn).
    """
    h, w = parse_size(size)
    rng = stable_seed(seed, prompt)
    spec = plan_scene(prompt, rng)
    c = _Canvas(h, w, spec, rng)
    c.sky()
    c.sun_disc()
    c.clouds()
    if c.has("mountain"):
        c.mountains()
    if c.has("hill") or (c.has("forest") and not c.has("mountain")):
        c.hills()
    if c.has("city"):
        c.city()
    c.ground()
    if c.has("forest") and not c.has("water"):
        c.trees()
    if c.has("water"):
        if c.has("forest"):
            c.trees()
        c.water()
    c.fog()
    return c.finish(), spec


class ProceduralScene:
    """Keyword-driven landscape renderer (registered as ``procedural_scene``)."""

    name = "procedural_scene"
    version = VERSION
    modality = "image"

    def generate(
        self, prompt: str, *, seed: int, size: int | tuple[int, int] = 512, **params: Any
    ) -> Generated:
        """Render ``prompt`` at ``size``; same prompt + seed gives the same pixels."""
        img, spec = render_scene(prompt, seed=seed, size=size)
        return Generated(
            modality="image",
            data=img,
            generator=self.name,
            version=self.version,
            seed=seed,
            params={"size": list(parse_size(size)), "time": spec.time, "features": list(spec.features)},
            prompt=prompt,
        )


@register_generator(modality="image", label="synthetic")
def procedural_scene(**kw: Any) -> ProceduralScene:
    """Factory: the procedural scene renderer (no weights)."""
    return ProceduralScene(**kw)

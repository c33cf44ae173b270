"""Real photos the image generators start from (edits, re-synthesis) or learn from (training).

Only sources that exist offline are used (see shared/DATA.md): photos inside the scikit-image and
matplotlib wheels, the opencv-doc sample photos when ``apt-get download opencv-doc`` has been
extracted under ``<data_dir>/cache/opencv-doc`` (the corpus builder's layout), and any file or folder
the caller passes as ``source_path``. Each photo gets a stable id (``skimage:astronaut``,
``opencv-doc:fruits``, ``file:<name>``) that generators put in ``Generated.source``.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detector.settings import Settings
from generators.errors import GeneratorError

# Colour camera photos only: the other wheel images are textures, microscopy, scans or renders.
SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "motorcycle_right")
# Real colour photos among the opencv-doc samples. Left out on purpose: logos, Blender renders,
# synthetic shapes (pic*, smarties, ellipses), the painting starry_night, grey calibration shots,
# and ela_modified (a spliced copy of ela_original, i.e. already "partial").
OPENCV_DOC_PHOTOS = (
    "HappyFish.jpg", "aero1.jpg", "aero3.jpg", "aloeL.jpg", "aloeR.jpg", "apple.jpg", "baboon.jpg",
    "board.jpg", "building.jpg", "butterfly.jpg", "chicky_512.png", "ela_original.jpg", "fruits.jpg",
    "graf1.png", "graf3.png", "home.jpg", "left.jpg", "leuvenA.jpg", "leuvenB.jpg",
    "licenseplate_motion.jpg", "messi5.jpg", "orange.jpg", "pca_test1.jpg", "right.jpg",
    "rubberwhale1.png", "rubberwhale2.png", "squirrel_cls.jpg", "stuff.jpg",
)  # fmt: skip
OPENCV_DOC_SUBDIR = Path("opencv-doc/usr/share/doc/opencv-doc/examples/data")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


class PhotoSourceError(GeneratorError):
    """No usable real photo was found (empty folder, unreadable file)."""


@dataclass(frozen=True)
class Photo:
    """A real photo the generators may read.

    Attributes:
        id: Stable identifier, recorded as ``Generated.source``.
        path: File on disk.
        licence: Licence of the source, for the dataset manifest.
    """

    id: str
    path: Path
    licence: str


def _skimage_dir() -> Path | None:
    try:
        import skimage.data
    except ImportError:  # scikit-image is optional: other sources still work
        return None
    return Path(skimage.data.__file__).parent


def _matplotlib_sample(name: str) -> Path | None:
    try:
        import matplotlib
    except ImportError:
        return None
    path = Path(matplotlib.get_data_path()) / "sample_data" / name
    return path if path.is_file() else None


def _opencv_doc_dir(settings: Settings | None = None) -> Path | None:
    settings = settings or Settings.from_env()
    path = settings.data_dir / "cache" / OPENCV_DOC_SUBDIR
    return path if path.is_dir() else None


def _files_under(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


@functools.lru_cache(maxsize=16)
def _builtin_photos(data_dir: str) -> tuple[Photo, ...]:
    out: list[Photo] = []
    sk = _skimage_dir()
    if sk is not None:
        for name in SKIMAGE_PHOTOS:
            for suffix in (".png", ".jpg"):
                if (sk / (name + suffix)).is_file():
                    out.append(Photo(f"skimage:{name}", sk / (name + suffix), "CC0 / public domain"))
                    break
    hopper = _matplotlib_sample("grace_hopper.jpg")
    if hopper is not None:
        out.append(Photo("matplotlib:grace_hopper", hopper, "public domain"))
    doc = Path(data_dir) / "cache" / OPENCV_DOC_SUBDIR
    if doc.is_dir():
        for name in OPENCV_DOC_PHOTOS:
            if (doc / name).is_file():
                out.append(Photo(f"opencv-doc:{Path(name).stem}", doc / name, "Apache-2.0 / BSD-3-Clause"))
    return tuple(out)


def list_photos(source_path: str | Path | None = None, *, settings: Settings | None = None) -> list[Photo]:
    """Real photos available offline, in a stable order.

    Args:
        source_path: A photo file or a folder of photos (searched recursively). When given, only
            these are used; otherwise the wheel photos plus extracted opencv-doc samples.
        settings: Where ``data_dir`` is; defaults to ``Settings.from_env()``.

    Returns:
        The photos, sorted by id within each source.

    Raises:
        PhotoSourceError: ``source_path`` holds no image, or nothing is available at all.
    """
    if source_path is not None:
        root = Path(source_path).expanduser()
        files = _files_under(root) if root.exists() else []
        if not files:
            raise PhotoSourceError(f"no image files under {root}")
        return [Photo(f"file:{p.relative_to(root) if root.is_dir() else p.name}", p, "user") for p in files]
    settings = settings or Settings.from_env()
    photos = list(_builtin_photos(str(settings.data_dir)))
    if not photos:
        raise PhotoSourceError(
            "no real photos found: install scikit-image, extract opencv-doc into "
            "<data_dir>/cache/opencv-doc, or pass source_path"
        )
    return photos


# Photographic KDE Plasma wallpapers (LGPL-3, Debian plasma-workspace-wallpapers), the same list as
# the corpus builder's; the others are abstract renders. Extract the package with ``dpkg -x`` into
# ``<data_dir>/cache/plasma-workspace-wallpapers``.
WALLPAPER_PHOTOS = (
    "BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite OneStandsOut Path summer_1am"
).split()
WALLPAPER_SUBDIR = Path("plasma-workspace-wallpapers/usr/share/wallpapers")


def list_wallpapers(*, settings: Settings | None = None) -> list[Photo]:
    """The photographic Plasma wallpapers, if extracted, smallest size of each (ids ``wallpaper:<Name>``).

    Whole landscapes and still lifes: downscaled to a thumbnail each is a complete scene, the
    coherent training domain the 32x32 DDPM needs. Kept out of :func:`list_photos` so the other
    generators' seeded photo choices do not change. Returns ``[]`` when not extracted.
    """
    settings = settings or Settings.from_env()
    root = settings.data_dir / "cache" / WALLPAPER_SUBDIR
    out: list[Photo] = []
    for name in WALLPAPER_PHOTOS:
        images = list((root / name / "contents" / "images").glob("*x*.jpg"))

        def area(p: Path) -> int:
            m = re.match(r"(\d+)x(\d+)", p.stem)
            return int(m.group(1)) * int(m.group(2)) if m else 0

        if images:
            # The smallest size is still >= 480 px high: plenty for thumbnails, fast to resize.
            out.append(Photo(f"wallpaper:{name}", min(images, key=lambda p: (area(p), p.name)), "LGPL-3.0"))
    return out


@functools.lru_cache(maxsize=64)
def _read_rgb_cached(path: str, mtime: float) -> np.ndarray:
    del mtime  # part of the cache key only, so an edited file is re-read
    img = cv2.imread(path, cv2.IMREAD_COLOR)  # drops alpha; greyscale comes back as 3 channels
    if img is None:
        raise PhotoSourceError(f"cannot decode image {path}")
    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    rgb.setflags(write=False)
    return rgb


def load_rgb(path: str | Path) -> np.ndarray:
    """Decode a photo as HxWx3 uint8 RGB (read-only array, cached)."""
    p = Path(path)
    try:
        mtime = p.stat().st_mtime
    except OSError as exc:
        raise PhotoSourceError(f"cannot read image {p}: {exc}") from None
    return _read_rgb_cached(str(p), mtime)


def pick_photo(photos: list[Photo], *, seed: int, prompt: str = "", exclude: str | None = None) -> Photo:
    """Choose a photo: one whose id contains a prompt word if any does, else one by seed.

    Args:
        photos: Candidates (from :func:`list_photos`).
        seed: Chooses among candidates reproducibly.
        prompt: Free text; a word naming a photo id ("astronaut", "fruits") selects it.
        exclude: An id not to return (the other photo of a splice), when there is a choice.
    """
    pool = [p for p in photos if p.id != exclude] or list(photos)
    words = {w.strip(".,;:!?").lower() for w in prompt.split() if len(w) > 2}
    # Whole tokens of the name only ("astronaut", "motorcycle"): substrings would let short words
    # match unrelated ids, and the source prefix ("opencv-doc:") is not a name.
    named = [p for p in pool if words & set(re.split(r"[_.\-/]", p.id.split(":", 1)[-1].lower()))]
    pool = named or pool
    # A hash rather than seed % len so neighbouring seeds do not walk the list in order.
    h = int.from_bytes(hashlib.sha256(f"{seed}:{len(pool)}".encode()).digest()[:8], "big")
    return pool[h % len(pool)]


def fit_to_size(
    img: np.ndarray, size: tuple[int, int], *, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Scale so the photo covers ``size`` (H, W), then crop (random if ``rng``, else centred)."""
    h, w = size
    ih, iw = img.shape[:2]
    scale = max(h / ih, w / iw)
    nh, nw = max(h, round(ih * scale)), max(w, round(iw * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    img = cv2.resize(np.ascontiguousarray(img), (nw, nh), interpolation=interp)
    y = int(rng.integers(0, nh - h + 1)) if rng is not None else (nh - h) // 2
    x = int(rng.integers(0, nw - w + 1)) if rng is not None else (nw - w) // 2
    return np.ascontiguousarray(img[y : y + h, x : x + w])


def parse_size(size: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """``512`` -> (512, 512); ``(h, w)`` as given. Sizes must be at least 16 pixels."""
    if isinstance(size, int | np.integer):
        hw = (int(size), int(size))
    else:
        hw = (int(size[0]), int(size[1]))
    if min(hw) < 16:
        raise GeneratorError(f"image size must be at least 16x16, got {hw}")
    return hw

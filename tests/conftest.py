"""Shared fixtures: settings in a temp data dir, the Flask app and client, API keys, media makers,
and the real servers (Redis, PostgreSQL) the integration tests talk to."""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pytest

from detector.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def _session_data_dir() -> Path:
    """A fresh ``$PROVSCAN_DATA_DIR`` for the whole test run, set before any test module is imported.

    The default data dir is ./data: the service's SQLite database, uploads and queue when
    ``make run`` runs in this checkout. Importing ``worker.celery_app`` builds the embedded broker's
    folders under it, and code that falls back to ``Settings.from_env()`` reads and writes there, so
    without this a test run would write beside (or into) a live service's data, and tests could pass
    or fail by what that folder holds. Set unconditionally: a developer's own
    ``PROVSCAN_DATA_DIR`` is exactly the folder tests must not touch.

    WordNet (``text-src``, fetched with apt by the text-watermark tests, 36 MB) is the one thing
    worth keeping between runs: it lives in ``PROVSCAN_TEST_CACHE`` (default
    ``~/.cache/provscan-tests``), linked into the session's data dir.
    """
    data = Path(tempfile.mkdtemp(prefix="provscan-test-data-"))
    atexit.register(shutil.rmtree, data, ignore_errors=True)
    cache = Path(os.environ.get("PROVSCAN_TEST_CACHE", Path.home() / ".cache" / "provscan-tests"))
    (cache / "text-src").mkdir(parents=True, exist_ok=True)
    (data / "text-src").symlink_to(cache / "text-src", target_is_directory=True)
    os.environ["PROVSCAN_DATA_DIR"] = str(data)
    return data


SESSION_DATA_DIR = _session_data_dir()
SHARED = Path(os.environ.get("PROVSCAN_SHARED", REPO.parent / "shared"))
C2PA_FIXTURES = SHARED / "c2pa-fixtures"
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
POSTGRES_ADMIN_URL = os.environ.get("POSTGRES_TEST_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def make_settings(tmp: Path, **env: str) -> Settings:
    base = {
        "PROVSCAN_DATA_DIR": str(tmp / "data"),
        "PROVSCAN_MODELS_DIR": os.environ.get("PROVSCAN_MODELS_DIR", str(REPO / "models")),
    }
    base.update(env)
    return Settings.from_env(base)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def app(settings: Settings):
    from web.app import create_app

    return create_app(settings, config={"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api_key(app) -> str:
    return app.extensions["provscan"].store.create_key("test")


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


def png_bytes(rng: np.random.Generator, size: tuple[int, int] = (64, 48), *, noise: float = 8.0) -> bytes:
    from PIL import Image

    h, w = size
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 / max(w - 1, 1), y * 255 / max(h - 1, 1), np.full_like(x, 128.0)], -1)
    img = np.clip(base + rng.normal(0, noise, base.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def jpeg_bytes(rng: np.random.Generator, size: tuple[int, int] = (64, 48), quality: int = 90) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(png_bytes(rng, size))).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def wav_bytes(rng: np.random.Generator, seconds: float = 0.5, sr: int = 16000) -> bytes:
    import soundfile as sf

    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * 220 * t) + rng.normal(0, 0.01, t.shape)
    buf = io.BytesIO()
    sf.write(buf, y.astype(np.float32), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def zero_size_png() -> bytes:
    """A PNG whose IHDR declares 0x0 (with a correct CRC), as a broken encoder would write it."""
    import struct
    import zlib

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 0, 0, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.fixture
def bad_inputs(rng: np.random.Generator) -> dict[str, bytes]:
    """The bad files every entry point must turn into a clear error."""
    return {
        "empty.jpg": b"",
        "truncated.jpg": jpeg_bytes(rng, (128, 128))[:400],
        "random.png": rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "zero.png": zero_size_png(),
    }


@pytest.fixture
def c2pa_fixtures() -> Path:
    if not C2PA_FIXTURES.is_dir():
        pytest.fail(f"C2PA fixtures not found at {C2PA_FIXTURES} (set PROVSCAN_SHARED)")
    return C2PA_FIXTURES


# --- real servers ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_TEST_URL} ({exc}); start it with scripts/services.sh")
    return REDIS_TEST_URL


@contextlib.contextmanager
def fresh_postgres_database(prefix: str = "provscan_test"):  # noqa: ANN201
    """Create an empty PostgreSQL database, yield its URL, drop it (and the store's engine) after."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({exc}); start it with scripts/services.sh")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        from worker import store as store_mod

        s = store_mod._stores.pop(url, None)
        if s is not None:
            s.engine.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


# --- a real `provscan serve` (embedded worker, no Redis) ------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300, cwd: Path | None = None):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "worker.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=str(cwd or REPO))


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """`provscan serve` exactly as `make run` starts it, on a free port with its own data dir."""
    import subprocess
    import sys
    import time

    import requests

    tmp = tmp_path_factory.mktemp("served")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(PROVSCAN_DATA_DIR=str(tmp / "data"), PYTHONPATH=str(REPO))
    port = free_port()
    log = open(tmp / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "worker.cli", "serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=str(REPO), start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp / "serve.log").read_text()
        try:
            if requests.get(url + "/api/v1/healthz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.3)
    else:
        proc.terminate()
        pytest.fail("provscan serve did not start:\n" + (tmp / "serve.log").read_text())
    key = run_cli("keys", "create", "tests", env=env).stdout.split()[-1]
    yield {"url": url, "env": env, "key": key, "log": tmp / "serve.log", "proc": proc}
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()

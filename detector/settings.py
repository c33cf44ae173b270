"""Instance configuration, read from the environment only (12-factor).

Every process (web, worker, CLI) builds one ``Settings`` with ``Settings.from_env()``; the
detector package gets paths from it explicitly rather than reading the environment deep inside.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_UPLOAD_MB = 200
# The project-wide watermark key: every provscan instance detects what any provscan generator
# marked. Operators who want private marks set PROVSCAN_WATERMARK_KEY.
DEFAULT_WATERMARK_KEY = "provscan-public-watermark-key-v1"


def _paths(value: str | None) -> tuple[Path, ...]:
    if not value:
        return ()
    return tuple(Path(p).expanduser().resolve() for p in value.split(os.pathsep) if p.strip())


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    media_root: Path
    models_dir: Path
    allowed_roots: tuple[Path, ...]
    max_upload_mb: float
    trust_anchors: Path | None
    signing_dir: Path
    watermark_key: str
    secret_key: str
    queue: str = "provscan"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("PROVSCAN_DATA_DIR") or "./data").expanduser().resolve()
        db = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'provscan.db'}"
        # Heroku-style URLs name the old driver; SQLAlchemy 2 wants psycopg (v3) explicitly.
        if db.startswith("postgres://"):
            db = "postgresql+psycopg://" + db[len("postgres://"):]
        elif db.startswith("postgresql://"):
            db = "postgresql+psycopg://" + db[len("postgresql://"):]
        trust = env.get("PROVSCAN_TRUST_ANCHORS")
        try:
            max_mb = float(env.get("PROVSCAN_MAX_UPLOAD_MB") or DEFAULT_MAX_UPLOAD_MB)
        except ValueError as exc:
            raise ValueError(f"PROVSCAN_MAX_UPLOAD_MB must be a number: {exc}") from None
        return cls(
            data_dir=data_dir,
            database_url=db,
            redis_url=env.get("REDIS_URL") or None,
            media_root=Path(env.get("MEDIA_ROOT") or data_dir / "media").expanduser().resolve(),
            models_dir=Path(env.get("PROVSCAN_MODELS_DIR") or Path(__file__).parent.parent / "models")
            .expanduser()
            .resolve(),
            allowed_roots=_paths(env.get("PROVSCAN_ALLOWED_ROOTS")),
            max_upload_mb=max_mb,
            trust_anchors=Path(trust).expanduser().resolve() if trust else None,
            signing_dir=Path(env.get("PROVSCAN_SIGNING_DIR") or data_dir / "signing").expanduser().resolve(),
            watermark_key=env.get("PROVSCAN_WATERMARK_KEY") or DEFAULT_WATERMARK_KEY,
            secret_key=env.get("PROVSCAN_SECRET_KEY") or "",
            # One queue name per deployment; tests use their own so parallel runs never steal tasks.
            queue=env.get("PROVSCAN_QUEUE") or "provscan",
        )

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def dataset_queue(self) -> str:
        # Dataset jobs run for minutes; on their own queue they never hold up a scan (the embedded
        # mode runs a worker per queue, deployments can scale them apart).
        return f"{self.queue}-datasets"

    def queues(self, names: str = "scans,datasets") -> list[str]:
        """Broker queue names for a comma-separated list of ``scans`` / ``datasets``."""
        table = {"scans": self.queue, "datasets": self.dataset_queue}
        out = []
        for n in (x.strip() for x in names.split(",")):
            if n not in table:
                raise ValueError(f"unknown queue {n!r} (choose from scans, datasets)")
            out.append(table[n])
        return out

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: `provscan serve` runs its own worker."""
        return self.redis_url is None

"""The store: scans, batches, API keys and reviews (SQLAlchemy 2; SQLite or PostgreSQL).

Reports are stored whole as JSON text so the Report contract can grow without migrations;
the columns beside it are what queries filter on.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

KEY_PREFIX = "psk_"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    # sha256 of the key: a leaked database does not leak usable keys. Keys are 256-bit random,
    # so a fast hash is enough (no dictionary to attack).
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Batch(Base):
    __tablename__ = "batches"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(16))  # "path" | "upload"
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)


class Scan(Base):
    __tablename__ = "scans"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batches.id"), nullable=True, index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, default=0)
    media_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    blob_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    verdict_label: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    verdict_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    models_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    report_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)

    __table_args__ = (Index("ix_scans_sha_models", "sha256", "models_key"),)

    @property
    def report(self) -> dict[str, Any] | None:
        return json.loads(self.report_json) if self.report_json else None


# What a reviewer may decide about a flagged scan.
REVIEW_DECISIONS = ("synthetic", "authentic", "partially_synthetic", "unsure")
# Verdict labels that put a finished scan in the reviewer queue. Fusion says "inconclusive"
# whenever it lacks decisive evidence either way, which is exactly what a person should look
# at; "authentic" (never emitted by today's fusion, kept in the Report contract) is not queued.
FLAGGED_LABELS = ("synthetic", "inconclusive")
REVIEW_STATES = ("pending", "reviewed", "all")
# "score": most probably synthetic first (the calibrated verdict score), so a reviewer with little
# time sees the strongest cases first; "newest": arrival order.
QUEUE_SORTS = ("score", "newest")


class Review(Base):
    """A reviewer's decision on a flagged scan; a scan may be reviewed again (latest wins)."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DatasetJob(Base):
    """A `provscan generate` run requested through the API; progress is counted here."""

    __tablename__ = "dataset_jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    modality: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)
    options_json: Mapped[str] = mapped_column(Text, default="{}")
    out_dir: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    summary_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)


class Store:
    """Engine + session factory for one database URL; creates tables on first use."""

    _lock = threading.Lock()

    def __init__(self, url: str) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"future": True, "pool_pre_ping": True}
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        if url.startswith("sqlite"):
            # Web threads, the CLI and a worker share one SQLite file: wait for locks rather
            # than failing, and let connections cross threads.
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        with self._lock:
            Base.metadata.create_all(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        s = self.Session()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    # --- API keys ---------------------------------------------------------------------------
    def create_key(self, name: str) -> str:
        """Create an API key; returns the secret once (only its hash is stored)."""
        if not name.strip():
            raise ValueError("key name must not be empty")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with self.session() as s:
            s.add(ApiKey(name=name.strip(), key_hash=hash_key(key), prefix=key[:10]))
        return key

    def check_key(self, key: str | None) -> ApiKey | None:
        if not key:
            return None
        with self.session() as s:
            row = s.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked.is_(False)))
            if row is not None:
                row.last_used_at = utcnow()
            return row

    def list_keys(self) -> list[ApiKey]:
        with self.session() as s:
            return list(s.scalars(select(ApiKey).order_by(ApiKey.id)))

    def revoke_key(self, name_or_prefix: str) -> int:
        with self.session() as s:
            rows = s.scalars(
                select(ApiKey).where((ApiKey.name == name_or_prefix) | (ApiKey.prefix == name_or_prefix))
            ).all()
            for r in rows:
                r.revoked = True
            return len(rows)

    # --- scans ------------------------------------------------------------------------------
    def get_scan(self, scan_id: str) -> Scan | None:
        with self.session() as s:
            return s.get(Scan, scan_id)

    def batch_counts(self, batch_id: str) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(
                select(Scan.status, func.count()).where(Scan.batch_id == batch_id).group_by(Scan.status)
            ).all()
        counts = {"queued": 0, "running": 0, "done": 0, "error": 0}
        for status, n in rows:
            counts[status] = int(n)
        return counts

    # --- reviews ----------------------------------------------------------------------------
    def add_review(self, scan_id: str, *, decision: str, reviewer: str, note: str | None = None) -> Review:
        """Record a decision (callers validate; the scan must exist)."""
        if decision not in REVIEW_DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(REVIEW_DECISIONS)}")
        with self.session() as s:
            row = Review(scan_id=scan_id, decision=decision, reviewer=reviewer, note=note)
            s.add(row)
        return row

    def reviews(self, scan_id: str, *, limit: int = 100) -> list[Review]:
        """A scan's decisions, newest first (the audit trail: who changed their mind, and when)."""
        with self.session() as s:
            return list(
                s.scalars(select(Review).where(Review.scan_id == scan_id).order_by(Review.id.desc()).limit(limit))
            )

    def review_queue(
        self,
        *,
        state: str = "pending",
        labels: tuple[str, ...] = FLAGGED_LABELS,
        limit: int = 50,
        offset: int = 0,
        exclude: str | None = None,
        sort: str = "score",
    ) -> tuple[list[tuple[Scan, Review | None]], int]:
        """Finished flagged scans, each with its latest review; and the total.

        ``state`` is "pending" (never reviewed), "reviewed" or "all"; ``sort`` one of ``QUEUE_SORTS``
        (ties and scans without a score: newest first).
        """
        if state not in REVIEW_STATES:
            raise ValueError(f"state must be one of {', '.join(REVIEW_STATES)}")
        if sort not in QUEUE_SORTS:
            raise ValueError(f"sort must be one of {', '.join(QUEUE_SORTS)}")
        latest = (
            select(Review.scan_id, func.max(Review.id).label("rid")).group_by(Review.scan_id).subquery()
        )
        cond = [Scan.status == "done", Scan.verdict_label.in_(labels)]
        if state == "pending":
            cond.append(latest.c.rid.is_(None))
        elif state == "reviewed":
            cond.append(latest.c.rid.is_not(None))
        if exclude:
            cond.append(Scan.id != exclude)
        q = (
            select(Scan, Review)
            .outerjoin(latest, latest.c.scan_id == Scan.id)
            .outerjoin(Review, Review.id == latest.c.rid)
            .where(*cond)
        )
        with self.session() as s:
            total = s.scalar(
                select(func.count()).select_from(Scan).outerjoin(latest, latest.c.scan_id == Scan.id).where(*cond)
            )
            order = [Scan.created_at.desc(), Scan.id]
            if sort == "score":
                order.insert(0, Scan.verdict_score.desc().nulls_last())
            rows = s.execute(q.order_by(*order).limit(limit).offset(offset)).all()
        return [(scan, review) for scan, review in rows], int(total or 0)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the web process read while the worker writes.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def get_store(url: str) -> Store:
    """One Store per URL per process (engines pool connections; don't make one per request)."""
    with _stores_lock:
        if url not in _stores:
            _stores[url] = Store(url)
        return _stores[url]

"""Media blobs on local disk, content-addressed by sha256 under MEDIA_ROOT.

Writes go to a temporary file in the same directory and are renamed into place, so a crash or
an over-size upload never leaves a partial blob under a real digest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


class BlobTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"file exceeds the upload limit of {limit / (1024 * 1024):.0f} MB")
        self.limit = limit


class EmptyBlob(Exception):
    pass


class BlobStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put_stream(self, stream: BinaryIO, *, max_bytes: int | None = None) -> tuple[str, int, Path]:
        """Copy ``stream`` into the store; returns (sha256, size, path).

        Raises:
            BlobTooLarge: more than ``max_bytes`` were read (nothing is kept).
            EmptyBlob: the stream had no bytes.
        """
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=tmp_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                while block := stream.read(CHUNK):
                    size += len(block)
                    if max_bytes is not None and size > max_bytes:
                        raise BlobTooLarge(max_bytes)
                    h.update(block)
                    out.write(block)
            if size == 0:
                raise EmptyBlob("empty file")
            digest = h.hexdigest()
            dest = self.path_for(digest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                os.unlink(tmp)
            else:
                os.replace(tmp, dest)
            return digest, size, dest
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def put_file(self, path: str | os.PathLike[str], *, max_bytes: int | None = None) -> tuple[str, int, Path]:
        with open(path, "rb") as f:
            return self.put_stream(f, max_bytes=max_bytes)

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path_for(sha256), "rb")

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def copy_to(self, sha256: str, dest: str | os.PathLike[str]) -> None:
        shutil.copyfile(self.path_for(sha256), dest)

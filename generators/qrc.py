"""Read Qt binary resource bundles (``.rcc``) without Qt.

The format is what ``rcc --binary`` writes (Qt's ``rcc.cpp`` / ``qresource.cpp``)::

    "qres"  u32 version  u32 tree_offset  u32 data_offset  u32 names_offset  [u32 flags, v3+]

All integers are big-endian. The tree is an array of fixed-size nodes (14 bytes, plus a u64
modification time from version 2 on); node 0 is the root directory::

    u32 name_offset  u16 flags  then  dir:  u32 child_count  u32 first_child_index
                                      file: u16 territory  u16 language  u32 data_offset

A name is ``u16 length  u32 hash  UTF-16BE chars`` at ``names_offset + name_offset``; file data
is ``u32 size  bytes`` at ``data_offset + offset``. Flag 1 means zlib with Qt's ``qCompress``
framing (a u32 uncompressed size, then a zlib stream); flag 4 means zstd (Qt 6), which needs the
optional ``zstandard`` module.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from generators.errors import GeneratorError

_FLAG_COMPRESSED = 0x01
_FLAG_DIRECTORY = 0x02
_FLAG_COMPRESSED_ZSTD = 0x04


class QrcFormatError(GeneratorError):
    """The bytes are not a Qt binary resource bundle, or it is truncated or corrupt."""


@dataclass(frozen=True)
class QrcEntry:
    """One file inside a bundle.

    Attributes:
        path: Resource path without the leading ``:/``, "/"-separated.
        size: Stored (possibly compressed) size in bytes.
        compression: "none", "zlib" or "zstd".
    """

    path: str
    size: int
    compression: str
    _offset: int


class QrcBundle:
    """A parsed ``.rcc`` file held in memory.

    Args:
        data: The whole bundle's bytes.

    Raises:
        QrcFormatError: Wrong magic, unknown version, or offsets outside the file.
    """

    def __init__(self, data: bytes) -> None:
        if len(data) < 20 or data[:4] != b"qres":
            raise QrcFormatError("not a Qt resource bundle (missing 'qres' magic)")
        self._data = data
        self.version, self._tree, self._payload, self._names = struct.unpack_from(">IIII", data, 4)
        if self.version not in (1, 2, 3):
            raise QrcFormatError(f"unsupported rcc format version {self.version}")
        self.flags = struct.unpack_from(">I", data, 20)[0] if self.version >= 3 else 0
        # Version 2 added an 8-byte modification time to every tree node.
        self._node_size = 14 if self.version == 1 else 22
        for off in (self._tree, self._payload, self._names):
            if off >= len(data):
                raise QrcFormatError("rcc offsets point past the end of the file (truncated?)")

    @classmethod
    def open(cls, path: str | Path) -> QrcBundle:
        """Read and parse the bundle at ``path``."""
        return cls(Path(path).read_bytes())

    def _name(self, offset: int) -> str:
        pos = self._names + offset
        try:
            (length,) = struct.unpack_from(">H", self._data, pos)
            raw = self._data[pos + 6 : pos + 6 + 2 * length]
        except struct.error as exc:
            raise QrcFormatError(f"bad name offset {offset}: {exc}") from None
        return raw.decode("utf-16-be")

    def _node(self, index: int) -> tuple[str, int, int, int]:
        pos = self._tree + index * self._node_size
        try:
            name_off, flags = struct.unpack_from(">IH", self._data, pos)
            if flags & _FLAG_DIRECTORY:
                count, first = struct.unpack_from(">II", self._data, pos + 6)
                return self._name(name_off) if index else "", flags, count, first
            (data_off,) = struct.unpack_from(">I", self._data, pos + 10)
        except struct.error as exc:
            raise QrcFormatError(f"bad tree node {index}: {exc}") from None
        return self._name(name_off), flags, 0, data_off

    def entries(self) -> Iterator[QrcEntry]:
        """Yield every file in the bundle, depth-first in tree order."""
        stack: list[tuple[int, str]] = [(0, "")]
        seen: set[int] = set()
        while stack:
            index, prefix = stack.pop()
            if index in seen:  # a corrupt tree could loop forever
                raise QrcFormatError(f"tree node {index} reached twice")
            seen.add(index)
            name, flags, count, arg = self._node(index)
            path = f"{prefix}/{name}" if prefix else name
            if flags & _FLAG_DIRECTORY:
                stack.extend((arg + i, path) for i in reversed(range(count)))
                continue
            (size,) = struct.unpack_from(">I", self._data, self._payload + arg)
            comp = "zstd" if flags & _FLAG_COMPRESSED_ZSTD else "zlib" if flags & _FLAG_COMPRESSED else "none"
            yield QrcEntry(path=path, size=size, compression=comp, _offset=arg)

    def read(self, entry: QrcEntry) -> bytes:
        """Return the uncompressed bytes of ``entry``.

        Raises:
            QrcFormatError: Corrupt compressed data, or zstd without the ``zstandard`` module.
        """
        start = self._payload + entry._offset + 4
        blob = self._data[start : start + entry.size]
        if len(blob) != entry.size:
            raise QrcFormatError(f"{entry.path}: data truncated")
        if entry.compression == "none":
            return blob
        if entry.compression == "zlib":
            try:
                # qCompress prefixes the expected size; the zlib stream follows.
                (expected,) = struct.unpack_from(">I", blob, 0)
                out = zlib.decompress(blob[4:])
            except (zlib.error, struct.error) as exc:
                raise QrcFormatError(f"{entry.path}: bad zlib data: {exc}") from None
            if len(out) != expected:
                raise QrcFormatError(f"{entry.path}: {len(out)} bytes inflated, {expected} expected")
            return out
        try:
            import zstandard  # optional: only Qt 6 bundles use zstd
        except ImportError:
            raise QrcFormatError(f"{entry.path}: zstd-compressed; install 'zstandard' to read it") from None
        return zstandard.ZstdDecompressor().decompress(blob, max_output_size=1 << 30)

    def files(self) -> dict[str, bytes]:
        """Every file's path mapped to its uncompressed bytes (small bundles only)."""
        return {e.path: self.read(e) for e in self.entries()}

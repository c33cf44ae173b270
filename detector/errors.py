"""One root error for the detector package; "no manifest" / "no watermark" are values, not errors."""

from __future__ import annotations


class DetectorError(Exception):
    """Root of every error raised on purpose by provscan.detector."""


class UnsupportedMediaError(DetectorError):
    """The bytes are not a media type provscan can analyse (or are empty).

    ``mime`` is set when the format was recognised but is not analysed (e.g. PDF), so provenance
    can still be read.
    """

    def __init__(self, message: str, *, mime: str | None = None) -> None:
        super().__init__(message)
        self.mime = mime


class DecodeError(DetectorError):
    """The file claims a supported type but cannot be decoded (truncated, corrupt, 0x0)."""


class RegistryError(DetectorError):
    """Duplicate or unknown registry name."""


class ModelMissingError(DetectorError):
    """A detector's weights are not in the models dir (build them with `make models`)."""

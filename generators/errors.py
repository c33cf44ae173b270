"""One root error for the generators package."""

from __future__ import annotations


class GeneratorError(Exception):
    """Root of every error raised on purpose by provscan.generators."""


class GeneratorUnavailableError(GeneratorError):
    """A generator's external tool (espeak-ng, festival) or trained weights are missing."""

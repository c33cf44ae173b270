"""provscan.detector: everything that judges media. Imports none of the other provscan packages."""

from __future__ import annotations

__version__ = "0.1.0"

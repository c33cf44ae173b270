"""Registries of factory functions (timm-style): register / create / list.

A registry maps a unique name to a factory ``def name(**kw) -> T`` plus free-form tags
(e.g. ``modality="image"``). Duplicate names raise, so two modules cannot silently shadow
each other's models.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from detector.errors import RegistryError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    factory: Callable[..., T]
    tags: dict[str, Any] = field(default_factory=dict)


class Registry(Generic[T]):
    """A named collection of factories.

    Args:
        kind: Human name of what is registered ("detector", "generator"), used in errors.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str | None = None, **tags: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator: register ``fn`` under ``name`` (default: the function's name)."""

        def deco(fn: Callable[..., T]) -> Callable[..., T]:
            key = name or fn.__name__
            if key in self._entries:
                raise RegistryError(f"{self.kind} {key!r} is already registered")
            self._entries[key] = Entry(key, fn, dict(tags))
            return fn

        return deco

    def create(self, name: str, **kw: Any) -> T:
        """Instantiate the entry ``name`` with keyword options ``kw``."""
        try:
            entry = self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise RegistryError(f"unknown {self.kind} {name!r} (known: {known})") from None
        return entry.factory(**kw)

    def list(self, pattern: str = "*", **tags: Any) -> list[str]:
        """Names matching a glob ``pattern`` and every given tag value, sorted."""
        out = []
        for key, entry in self._entries.items():
            if not fnmatch.fnmatch(key, pattern):
                continue
            if any(entry.tags.get(k) != v for k, v in tags.items()):
                continue
            out.append(key)
        return sorted(out)

    def entry(self, name: str) -> Entry[T]:
        return self._entries[name]

    def tags(self, name: str) -> dict[str, Any]:
        return dict(self._entries[name].tags)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

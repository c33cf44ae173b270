"""Text generators (word-level trigram and GRU language models) and the prompt writer.

Importing this package registers ``text-ngram`` and ``text-gru`` in ``generators.base.GENERATORS``.
"""

from __future__ import annotations

from generators.text import gru, ngram  # noqa: F401  (importing registers the generators)

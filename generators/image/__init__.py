"""Image generator families; importing this package registers them all.

Synthetic: ``procedural_scene`` (no weights), ``vae_resynth``, ``ddpm_32``, ``espcn_sr`` (weights
trained here, ``python -m generators.image.train all``). Partial edits of real photos:
``edit_splice``, ``edit_inpaint``, ``edit_region``.
"""

from __future__ import annotations

from generators.image import edits, learned, procedural  # noqa: F401  (registration side effects)

"""Image generator families; importing this package registers them all.

Synthetic: ``procedural_scene`` (no weights), ``vae_resynth``, ``ddpm_32``, ``espcn_sr`` (weights
trained here, ``python -m generators.image.train all``), ``ddpm_sdedit`` (the DDPM re-drawing the
prompt's procedural scene, SDEdit). Partial edits of real photos:
``edit_splice``, ``edit_inpaint``, ``edit_region``.
"""

from __future__ import annotations

from generators.image import edits, learned, procedural, sdedit  # noqa: F401  (registration side effects)

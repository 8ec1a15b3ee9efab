"""Every registry entry: name, builder, chapter and figure/listing, deviations.

Seed chapters: IDL = Inside Deep Learning ch. 6; D2L = Dive into Deep Learning (PyTorch ed.)
ch. 5 / (zh) ch. 7; DLWPT = Deep Learning with PyTorch ch. 8; cheat sheet = the deep
learning cheat sheet. The entries live in ``catalog_d2l`` and ``catalog_idl_dlwpt``;
``models.registry`` loads ``ENTRIES`` before the first lookup or user registration.
"""

from __future__ import annotations

from inspector.models import catalog_d2l, catalog_idl_dlwpt

ENTRIES = (*catalog_d2l.ENTRIES, *catalog_idl_dlwpt.ENTRIES)

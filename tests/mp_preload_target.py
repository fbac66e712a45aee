"""A module only worker processes import, through a pool's ``preload``
(test_process_preload checks that they have it before their first task; no
test module imports it)."""

from __future__ import annotations

LOADED = True

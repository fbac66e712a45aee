"""A TT_MP target in a module of its own: test_process_tier checks which worker
processes import it (no other test module imports it)."""

from __future__ import annotations

import os
from typing import Any


def ping(**_: Any) -> int:
    return os.getpid()

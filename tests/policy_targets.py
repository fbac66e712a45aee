"""Process-tier targets for test_policies.py: module-level, so worker processes import them."""

from __future__ import annotations

import time
from typing import Any


def sleep_long(**_: Any) -> str:
    time.sleep(120)  # ended by a limit or a cancel, never by itself
    return 'slept'


def sleep_and_clean_up(**_: Any) -> str:
    try:
        time.sleep(120)
    except TimeoutError:  # the soft limit, raised in this process
        return 'cleaned up'
    return 'slept'


def add(a: int, b: int, **_: Any) -> int:
    return a + b

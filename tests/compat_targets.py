"""Process-tier targets written the way atasker users write them: no ``**kwargs``."""

from __future__ import annotations

from typing import Any


def square(x: int) -> int:
    return x * x


def power(base: int, exponent: int = 2) -> int:
    return int(base ** exponent)


def task_id_of(**kwargs: Any) -> Any:
    return kwargs.get('_task_id')

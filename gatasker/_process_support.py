"""The supervisor's side of the process tier (TT_MP).

Owned by the process tier work (issue 5). A mixin of TaskSupervisor; each
hook calls ``super()`` so the other mixins keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any


class ProcessSupport:
    """Mixin: the process tier's sizes, pool and executor."""

    def _init_extensions(self) -> None:
        super()._init_extensions()  # type: ignore[misc]

    def _extension_limits(self, tt: int) -> Any:
        return super()._extension_limits(tt)  # type: ignore[misc]

    def _make_extension_tier(self, tt: int, done: Callable[..., None]) -> Any:
        return super()._make_extension_tier(tt, done)  # type: ignore[misc]

    def _extend_info(self, info: SimpleNamespace, run: Any) -> None:
        super()._extend_info(info, run)  # type: ignore[misc]

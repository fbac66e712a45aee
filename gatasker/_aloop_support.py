"""The supervisor's side of aloops and async jobs.

Owned by the aloops work (issue 4). A mixin of TaskSupervisor; each hook
calls ``super()`` so the other mixins keep working.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any


class ALoopSupport:
    """Mixin: creates, finds and stops the supervisor's aloops."""

    def _init_extensions(self) -> None:
        super()._init_extensions()  # type: ignore[misc]

    def _stop_extensions(self, run: Any, deadline: float | None) -> None:
        super()._stop_extensions(run, deadline)  # type: ignore[misc]

    def _extend_info(self, info: SimpleNamespace, run: Any) -> None:
        super()._extend_info(info, run)  # type: ignore[misc]

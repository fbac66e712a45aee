"""The supervisor's side of actors and workers: registration and stop.

Owned by the actors/workers work (issue 3). A mixin of TaskSupervisor; each
hook calls ``super()`` so the other mixins keep working.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any


class ActorSupport:
    """Mixin: keeps the actors (and so the workers) registered with a supervisor."""

    def _init_extensions(self) -> None:
        super()._init_extensions()  # type: ignore[misc]

    def _extension_schedulers(self) -> list[Any]:
        return super()._extension_schedulers()  # type: ignore[misc,no-any-return]

    def _extend_info(self, info: SimpleNamespace, run: Any) -> None:
        super()._extend_info(info, run)  # type: ignore[misc]

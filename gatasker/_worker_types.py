"""What the worker modules share: the executor type, the keywords, the
Protocol a worker follows its runs through, and `Done`. A worker reaches its
supervisor through the port's `ActorHost` (``_port``), as actors do."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Protocol, TypedDict

if TYPE_CHECKING:  # annotations only
    from ._aloop import ALoop
    from ._supervisor import TaskSupervisor

#: What a worker runs: called with the ``start()`` arguments and keywords.
Executor = Callable[..., object]

#: start() keyword arguments that change the worker instead of reaching the executor.
CONTROL_KWARGS = ('_priority', '_interval', '_delay', '_delay_after', '_delay_before', '_loop',
                  '_name')

#: Timing keywords only interval workers take (``_``-prefixed at start()).
TIMING_KWARGS = ('_interval', '_delay', '_delay_after', '_delay_before')


class WorkerOptions(TypedDict, total=False):
    """`BackgroundWorker`'s arguments after *name* and *func*, as its subclasses
    pass them on by keyword."""

    executor_func: Executor | None
    priority: int
    o: object
    on_error: Callable[..., object] | None
    on_error_kwargs: dict[str, object] | None
    supervisor: TaskSupervisor | None
    poll_delay: float | None
    tt: int | None
    loop: ALoop | str | None
    timeout: float | None
    soft_timeout: float | None
    rate: str | None
    daemon: bool


class Run(Protocol):
    """One run of the executor (a `Task`), as the worker follows it."""

    @property
    def tt(self) -> int:
        """The tier it runs in."""

    @property
    def result(self) -> object:
        """What the executor returned."""

    @property
    def exception(self) -> BaseException | None:
        """What the executor raised (or why the run failed)."""

    def is_started(self) -> bool:
        """True once it left the queue."""

    def is_canceled(self) -> bool:
        """True if it was canceled before it started."""

    def done(self) -> bool:
        """True once it ended."""

    def wait(self, timeout: float | None = None) -> bool:
        """Block until it ended (cooperatively in a greenlet)."""

    def cancel(self) -> bool:
        """Cancel it if it did not start."""


class Done:
    """What ``put()`` and ``trigger()`` return: done already, and awaitable.

    atasker's forms were coroutines (``await worker.put(x)`` inside an async
    executor); here the call itself does the work, so both the plain call and
    the awaited one queue exactly once.
    """

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        yield from ()

    def __repr__(self) -> str:
        return '<done>'


#: The one `Done`.
DONE = Done()

"""``zope.interface`` contracts of gatasker's main roles.

Each docstring says which thread or greenlet may call the method and whether
it blocks. Implementers are checked with ``zope.interface.verify.verifyObject``
in the tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from zope.interface import Attribute, Interface

from ._admission import Limits


class ITask(Interface):
    """One unit of work; ends COMPLETED or CANCELED exactly once."""

    id = Attribute('The task id (unique among the running tasks of a supervisor).')
    tt = Attribute('The task type: TT_COROUTINE, TT_THREAD, TT_MP or TT_GREENLET.')
    priority = Attribute('TASK_CRITICAL, TASK_HIGH, TASK_NORMAL or TASK_LOW.')
    status = Attribute('One of the TASK_STATUS_* codes.')
    result = Attribute('What the target returned (None until then).')
    exception = Attribute('What the target raised, or None.')

    def is_started() -> bool:
        """True once the task began running. Any thread; never blocks."""

    def is_completed() -> bool:
        """True once the target returned or raised. Any thread; never blocks."""

    def wait(timeout: float | None = None) -> bool:
        """Wait until done; return whether it is. Blocks cooperatively in a
        greenlet, or the calling OS thread."""

    def get(timeout: float | None = None) -> object:
        """Wait, then return the result or raise the exception. Blocks like wait()."""

    def cancel() -> bool:
        """Cancel a task that has not started. Any thread; never blocks."""

    def done() -> bool:
        """True once completed or canceled. Any thread; never blocks."""

    def cancelled() -> bool:
        """True if canceled. Any thread; never blocks."""

    def running() -> bool:
        """True while the target runs. Any thread; never blocks."""

    def add_done_callback(fn: Callable[[ITask], object]) -> None:
        """Call ``fn(task)`` once done, in the supervisor's hub (at once if done).
        Any thread; never blocks."""

    def rawlink(callback: Callable[[ITask], object]) -> None:
        """gevent's wait protocol: ``callback(task)`` in the caller's hub once done."""

    def unlink(callback: Callable[[ITask], object]) -> None:
        """Undo rawlink()."""

    def future() -> object:
        """A ``concurrent.futures.Future`` that follows the task. Never blocks."""


class ITier(Interface):
    """Where tasks of one type run. Called only from the supervisor's greenlet."""

    name = Attribute("The tier's name: 'greenlet', 'thread', 'mp' ...")

    def start() -> None:
        """Acquire the tier's resources (threads, processes)."""

    def execute(task: Any) -> None:  # each tier takes its own task type
        """Run *task*; report its end by calling the tier's ``done(task, ok, value)``
        (thread-safe: any thread may call it). A tier may also define
        ``task_finished(task)``, called in the supervisor's greenlet once that
        end was handled. Never blocks the calling greenlet.
        """

    def resize(limits: Limits) -> None:  # the thread tier's are ThreadLimits
        """Adapt the tier to new limits; running tasks are never killed."""

    def stop(wait: bool) -> None:
        """Release the tier's resources; with *wait*, after running tasks end."""


class ISupervisor(Interface):
    """Owns the tiers and dispatches tasks by priority with reserve accounting.

    Every method may be called from any OS thread and any greenlet.
    """

    id = Attribute('The supervisor id.')
    default_tt = Attribute('The task type used when none is given.')

    def start(mode: str | None = None) -> bool:
        """Start; False if already running. Never blocks for long."""

    def stop(wait: bool | float = True, stop_schedulers: bool = True,
             cancel_tasks: bool = False) -> bool:
        """Stop; blocks the caller (cooperatively in a greenlet) at most *wait* seconds
        when *wait* is a number."""

    def put_task(target: Callable[..., object], args: Iterable[object] = (),
                 kwargs: dict[str, object] | None = None,
                 callback: Callable[[object], object] | None = None, priority: int = 100,
                 delay: float | None = None, tt: int = 1, task_id: object = None,
                 worker: object = None, name: str | None = None, loop: object = None,
                 _pass_task_id: bool = True) -> ITask:
        """Queue a task and return it. Never blocks."""

    def get_task(task_id: object) -> ITask | None:
        """The queued or running task with that id, else None. Never blocks."""

    def get_info() -> object:
        """A snapshot of the supervisor's state. Never blocks."""

    def block() -> None:
        """Return when the supervisor stops. Blocks."""


class IActor(Interface):
    """An object that handles messages one at a time in its own greenlet."""

    def start() -> bool:
        """Start handling messages; False if already running."""

    def stop(wait: bool | float = True, drain: bool = False) -> bool:
        """Stop after the message being handled; blocks up to *wait* seconds."""

    def tell(message: object) -> None:
        """Send a message without waiting for it. Any thread; never blocks."""

    def ask(message: object, timeout: float | None = None) -> object:
        """Send a message and wait for the handler's answer. Blocks."""


class IWorker(IActor):
    """An actor that runs an executor on timer ticks, triggers or queue items."""

    def is_active() -> bool:
        """True while the worker runs. Never blocks."""

    def restart(*args: object, **kwargs: object) -> bool:
        """Stop and start again."""


class IALoop(Interface):
    """An asyncio loop in its own OS thread, as an execution tier."""

    name = Attribute("The aloop's name.")

    def run(coro: Coroutine[object, object, object]) -> object:
        """Run a coroutine in the loop and return its result. Blocks."""

    def background_task(coro: Coroutine[object, object, object]) -> ITask:
        """Run a coroutine in the loop as a Task. Never blocks."""

    def get_loop() -> asyncio.AbstractEventLoop | None:
        """The asyncio event loop (None until the aloop started)."""

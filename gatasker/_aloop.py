"""aloops: asyncio event loops, each in its own real OS thread.

The hub never waits on asyncio directly: a coroutine is handed to its loop
with ``asyncio.run_coroutine_threadsafe`` and its end comes back through the
future's done-callback, which sets a `Latch`
(cooperative for a waiting greenlet) or posts to the supervisor's inbox.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from zope.interface import implementer

from ._bridge import Latch, destroy_thread_hub, real_thread_id, start_real_thread, wait_future
from ._constants import TT_COROUTINE, check_wait
from ._coroutines import CoroutineObject
from ._interfaces import IALoop
from ._logging import logger

if TYPE_CHECKING:
    from ._task import Task

T = TypeVar('T')


@implementer(IALoop)
class ALoop:
    """An asyncio loop running in the OS thread ``supervisor_<id>_aloop_<name>``.

    Created by `TaskSupervisor.create_aloop()`. Its methods may be called
    from any thread or greenlet; `run()` blocks (cooperatively in a
    greenlet), the others do not.

    Args:
        name: Its name, unique in the supervisor.
        supervisor: The `TaskSupervisor` it belongs to.
        daemon: Run the loop's thread as a daemon thread.
    """

    def __init__(self, name: str, supervisor: Any, daemon: bool = False) -> None:
        self.name = name
        self.supervisor = supervisor
        self.daemon = daemon  # every aloop thread is a daemon; kept for atasker code
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread_id: int | None = None
        self._ready = Latch()
        self._stopped = Latch()
        self._stopped.set()

    @property
    def thread_name(self) -> str:
        """The name of the aloop's OS thread."""
        return f'supervisor_{self.supervisor.id}_aloop_{self.name}'

    def __repr__(self) -> str:
        return f'<ALoop {self.name!r} {"running" if self.is_active() else "stopped"}>'

    def is_active(self) -> bool:
        """Tell whether the loop runs. Never blocks.

        Returns:
            bool: True while the loop runs.
        """
        return self._loop is not None and not self._stopped.is_set()

    def get_loop(self) -> asyncio.AbstractEventLoop | None:
        """The asyncio event loop, for direct use. Never blocks.

        Returns:
            asyncio.AbstractEventLoop | None: The loop; None while stopped.
        """
        return self._loop

    # -- life cycle ------------------------------------------------------------

    def start(self) -> bool:
        """Start the loop's thread. Waits until it is up.

        Returns:
            bool: True if it started, False if it runs already.
        """
        if self.is_active():
            return False
        self._ready = Latch()
        self._stopped = Latch()
        start_real_thread(self._thread_main, self.thread_name)
        self._ready.wait()
        return True

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._thread_id = real_thread_id()
        self._ready.set()
        try:
            while True:
                try:
                    loop.run_forever()
                    break  # stopped by stop()
                except BaseException as exc:  # asyncio re-raises SystemExit
                    # and KeyboardInterrupt out of run_forever: end that callback, not the loop.
                    logger.error('aloop %s: a coroutine or callback raised %r; the loop goes on',
                                 self.name, exc, exc_info=exc)
            loop.run_until_complete(loop.shutdown_asyncgens())
        except Exception:
            logger.exception('aloop %s failed', self.name)
        finally:
            loop.close()
            # Patched, asyncio's selector made a gevent hub in this thread; its loop
            # holds an epoll and an eventfd that outlive the thread unless destroyed.
            destroy_thread_hub()
            self._loop = None
            self._stopped.set()

    def stop(self, wait: bool | float = True, cancel_tasks: bool = False) -> bool:
        """Stop the loop.

        Blocks (cooperatively in a greenlet) until the thread ended, at most
        *wait* seconds plus a short grace.

        Args:
            wait: True (or seconds) gives the coroutines still running that long
                to finish, then cancels them; False cancels them at once.
            cancel_tasks: Cancel them at once.

        Returns:
            bool: True if it stopped, False if it was not running.

        Raises:
            RuntimeError: Called from the loop's own thread.
        """
        loop = self._loop
        if loop is None or self._stopped.is_set():
            return False
        if real_thread_id() == self._thread_id:
            raise RuntimeError(f'{self!r} cannot be stopped from its own thread')
        timeout = check_wait(wait)
        if not request_stop(self, timeout, cancel_tasks):
            return False
        self._stopped.wait(None if timeout is None else timeout + 5.0)
        return True

    # -- running coroutines ---------------------------------------------------------

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule *coro* on the loop. Never blocks.

        Args:
            coro: A coroutine object.

        Returns:
            concurrent.futures.Future: Done with the coroutine's result or
                exception.
        """
        loop = self._loop
        if loop is None or self._stopped.is_set():
            coro.close()
            raise RuntimeError(f'{self!r} is not running')
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run *coro* on the loop and return its result, or raise its exception.

        Blocks: cooperatively in a greenlet (the hub keeps running), or the
        calling OS thread.

        Args:
            coro: A coroutine object.
            timeout: Seconds to wait at most; None waits as long as it takes.

        Returns:
            T: What the coroutine returned.

        Raises:
            RuntimeError: Called from the aloop's own thread (it would wait for
                itself).
            TimeoutError: After *timeout* seconds.
            BaseException: What the coroutine raised.
        """
        if real_thread_id() == self._thread_id:
            coro.close()
            raise RuntimeError(f'run() in the thread of {self!r} would wait for itself; '
                               'await the coroutine instead')
        future = self.submit(coro)
        if not wait_future(future, timeout):
            future.cancel()
            raise TimeoutError(f'the coroutine did not finish within {timeout} s')
        return future.result()

    def background_task(self, coro: Coroutine[Any, Any, T]) -> Task[T]:
        """Run *coro* on the loop as a registered `Task`; return it at once.

        The task completes with the coroutine's result, or with its exception
        (``asyncio.CancelledError`` included) as ``task.exception``.

        Args:
            coro: A coroutine object.

        Returns:
            Task: The task.
        """
        if not asyncio.iscoroutine(coro):
            raise TypeError(f'background_task() needs a coroutine object, got {coro!r}')
        task: Task[T] = self.supervisor.put_task(CoroutineObject(coro), tt=TT_COROUTINE,
                                                 loop=self, _pass_task_id=False)
        return task


def request_stop(aloop: ALoop, timeout: float | None, cancel: bool) -> bool:
    """Ask *aloop* to wind down within *timeout* (its coroutines then canceled,
    at once with *cancel*); False if it does not run. Any thread; never blocks."""
    loop = aloop.get_loop()
    if loop is None or not aloop.is_active():
        return False
    try:
        asyncio.run_coroutine_threadsafe(_wind_down(timeout, cancel), loop)
    except RuntimeError:  # the loop closed meanwhile
        return False
    return True


async def _wind_down(timeout: float | None, cancel: bool) -> None:
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks(loop) if t is not me]
    if tasks and not cancel and timeout != 0.0:
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    else:
        pending = set(tasks)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=5.0)
    loop.stop()


def runs_here(aloop: ALoop) -> bool:
    """True in *aloop*'s own thread: in a coroutine or callback of its loop.
    Any thread; never blocks."""
    loop = aloop.get_loop()
    if loop is None:
        return False
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:  # no asyncio loop runs in this thread
        return False

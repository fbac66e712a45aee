"""Run the process tier's work on a dask.distributed cluster.

`DaskExecutor` is a ``concurrent.futures.Executor`` backed by a dask
``Client``. Given to a supervisor (``supervisor.mp_pool =
DaskExecutor(address=...)``), it runs TT_MP tasks on the cluster's workers,
which order them by the tasks' gatasker priorities.

Threads: every call on the client is made on the client's own event loop,
reached with the loop's thread-safe ``add_callback``. A client the executor
connects itself lives on an asyncio loop in one real OS thread per process,
``gatasker_dask``: under ``patch_all()`` dask's own loop thread would be a
greenlet, and a client created there silently turns asynchronous. Futures are
completed in the loop's thread, so their done-callbacks run there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import itertools
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ParamSpec, TypeVar, cast

try:
    import distributed
except ImportError as exc:  # the optional extra is missing
    raise ImportError("gatasker.contrib.dask needs dask.distributed: "
                      "pip install 'gatasker[dask]'") from exc

from .._bridge import HubKeepAlive, allocate_lock, real_thread_id, threading_is_patched, wait_future
from .._constants import TASK_NORMAL
from .._futures import settle_future
from .._logging import logger
from ._dask_client import AsyncClient, connect_client

__all__ = ['DaskExecutor', 'dask_priority']

P = ParamSpec('P')
T = TypeVar('T')

# The executor decides where its client's loop runs.
_RESERVED_CLIENT_KWARGS = frozenset({'asynchronous', 'loop'})


def dask_priority(priority: int) -> int:
    """The dask priority for a gatasker *priority*: ``TASK_NORMAL - priority``.

    dask runs higher numbers first and gatasker lower ones, so TASK_CRITICAL
    (0) becomes 100, TASK_HIGH 50, TASK_NORMAL 0 and TASK_LOW -100.
    """
    return TASK_NORMAL - priority


def _wait(future: concurrent.futures.Future[T], timeout: float | None = None) -> T:
    """The result of *future*, waited for like `gatasker._bridge.wait_future`."""
    if not wait_future(future, timeout):
        raise TimeoutError(f'no answer within {timeout} s')
    return future.result()


class _Job:
    """One submitted call, from the caller's future to the dask future that runs it."""

    __slots__ = ('call', 'dask_future', 'future', 'keepalive', 'key', 'priority', 'watcher')

    def __init__(self, call: Callable[[], object], key: str, priority: int,
                 future: concurrent.futures.Future[Any]) -> None:
        self.call = call
        self.key = key
        self.priority = priority
        self.future = future
        self.dask_future: Awaitable[object] | None = None  # a distributed.Future on the cluster
        self.watcher: asyncio.Task[None] | None = None
        self.keepalive: HubKeepAlive | None = None


class DaskExecutor(concurrent.futures.Executor):
    """A ``concurrent.futures.Executor`` that runs its calls on a dask.distributed cluster.

    Give it the scheduler's *address* (``'tcp://10.0.0.5:8786'``) and it
    connects a client of its own, passing *client_kwargs* to
    ``distributed.Client`` (``set_as_default`` is False unless given;
    ``asynchronous`` and ``loop`` are the executor's to choose). Or give it a
    connected *client*: the executor then makes every call on that client's
    event loop, so in a monkey-patched process that loop must run in a real
    OS thread. Exactly one of the two, else ``ValueError``. The constructor
    blocks until the client is connected (cooperatively in a greenlet).

    Each call becomes one dask task with a unique key (``name-`` and 32 hex
    digits) and ``pure=False``: identical calls all run. A task whose worker dies is run
    again on another worker (at least once); one that keeps killing workers
    ends with ``distributed.KilledWorker`` as the future's exception.

    Every method may be called from any thread or greenlet. Futures complete
    in the client's loop thread, where their done-callbacks run.
    """

    def __init__(self, address: str | None = None, *, client: distributed.Client | None = None,
                 **client_kwargs: object) -> None:
        if (address is None) == (client is None):
            raise ValueError('DaskExecutor needs exactly one of address= or client=')
        if client is not None and client_kwargs:
            raise ValueError(f'client keyword arguments {sorted(client_kwargs)} apply only '
                             'with address=')
        if address is not None and (not isinstance(address, str) or not address):
            raise ValueError(f'address must be a scheduler address such as '
                             f"'tcp://127.0.0.1:8786', got {address!r}")
        reserved = _RESERVED_CLIENT_KWARGS.intersection(client_kwargs)
        if reserved:
            raise ValueError(f'{sorted(reserved)}: the executor chooses where its client runs')
        self._lock = allocate_lock()
        self._jobs: dict[concurrent.futures.Future[Any], _Job] = {}
        self._shutdown = False
        self._close_when_idle = False
        self._closing: concurrent.futures.Future[None] | None = None
        self._keepalives: dict[int, HubKeepAlive] | None = {} if threading_is_patched() else None
        # Jobs on their way to the loop, which is woken once per batch: each wake-up is a
        # syscall, and a syscall hands the GIL to the busy client thread for up to 5 ms.
        self._inbox: deque[_Job] = deque()
        self._wake_pending = False
        # Keys: a random part per executor and a counter (no syscall per key, unlike uuid4).
        self._key_prefix = uuid.uuid4().hex[:24]
        self._key_numbers = itertools.count()
        self._owns_client = client is None
        self._address = address or getattr(getattr(client, 'scheduler', None), 'address', None)
        if client is None:
            assert address is not None
            self._client = connect_client(address, client_kwargs)
            logger.debug('DaskExecutor connected to %s', address)
        else:
            self._client = cast(AsyncClient, client)
        self._loop = self._client.loop
        self._asyncio_loop: asyncio.AbstractEventLoop = self._loop.asyncio_loop

    @property
    def client(self) -> distributed.Client:
        """The dask client, for what the executor does not offer (``scheduler_info()``, ...).

        One the executor connected lives on the loop of the ``gatasker_dask``
        thread. Its blocking methods work from any other thread or greenlet
        (dask runs them on that loop and waits, cooperatively in a greenlet);
        in the loop's own thread, where done-callbacks run, they return
        coroutines instead.
        """
        return cast(distributed.Client, self._client)

    def __repr__(self) -> str:
        state = 'shut down' if self._shutdown else 'running'
        return f'<DaskExecutor {self._address} {state}>'

    # -- submitting --------------------------------------------------------------------

    def submit(self, fn: Callable[P, T], /, *args: P.args,
               **kwargs: P.kwargs) -> concurrent.futures.Future[T]:
        """Run ``fn(*args, **kwargs)`` on the cluster at TASK_NORMAL; return its future.

        Every keyword reaches *fn*, ``priority`` and ``key`` included. Never blocks.
        """
        return self.submit_task(fn, args, kwargs)

    def submit_task(self, fn: Callable[..., T], args: tuple[Any, ...] = (),
                    kwargs: Mapping[str, Any] | None = None, priority: int = TASK_NORMAL,
                    name: str | None = None) -> concurrent.futures.Future[T]:
        """Run ``fn(*args, **kwargs)`` on the cluster; return a ``concurrent.futures.Future``.

        *priority* is gatasker's (lower is more important), given to dask as
        `dask_priority`. *name* starts the task's dask key (default: the
        function's name). The future gets the call's result, or the exception
        it raised; canceling it cancels the dask task. Raises RuntimeError after
        `shutdown`. Any thread or greenlet; never blocks.
        """
        if not callable(fn):
            raise TypeError(f'{fn!r} is not callable')
        label = name or getattr(fn, '__qualname__', None) or type(fn).__name__
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        key = f'{label}-{self._key_prefix}{next(self._key_numbers):08x}'
        job = _Job(functools.partial(fn, *args, **(kwargs or {})), key, dask_priority(priority),
                   future)
        future.add_done_callback(self._job_done)
        with self._lock:
            if self._shutdown:
                raise RuntimeError('cannot schedule new futures after shutdown')
            if self._client.status in ('closing', 'closed'):
                raise RuntimeError(f'the dask client is {self._client.status}')
            self._jobs[future] = job
            if self._keepalives is not None:
                keepalive = self._keepalives.get(real_thread_id())
                if keepalive is None:
                    keepalive = self._keepalives[real_thread_id()] = HubKeepAlive(self._lock)
                keepalive.hold()
                job.keepalive = keepalive
            self._inbox.append(job)
            wake, self._wake_pending = not self._wake_pending, True
        if wake:
            self._loop.add_callback(self._drain)
        return future

    def _drain(self) -> None:
        # On the client's loop.
        with self._lock:
            self._wake_pending = False
            jobs = list(self._inbox)
            self._inbox.clear()
        for job in jobs:
            if not job.future.done():  # else canceled on the way here
                self._start(job)

    def _start(self, job: _Job) -> None:
        # On the client's loop.
        try:
            # A partial keeps the call's own keywords (priority=, key=, retries=, ...) away from
            # submit(), which would take them as its options.
            job.dask_future = self._client.submit(job.call, key=job.key, pure=False,
                                                  priority=job.priority)
        except BaseException as exc:  # e.g. an argument that cannot be pickled
            settle_future(job.future, False, exc)
            return
        job.watcher = asyncio.ensure_future(self._follow(job))

    async def _follow(self, job: _Job) -> None:
        # On the client's loop, where awaiting a dask future gives its result or raises the
        # task's own exception (or KilledWorker, or CancelledError).
        assert job.dask_future is not None
        try:
            value = await job.dask_future
            ok = True
        except BaseException as exc:
            value, ok = exc, False
        job.dask_future = None  # lets the cluster release the key
        settle_future(job.future, ok, value)

    def _job_done(self, future: concurrent.futures.Future[Any]) -> None:
        # Any thread: where the future was completed or canceled.
        with self._lock:
            job = self._jobs.pop(future, None)
            close_now = self._close_when_idle and not self._jobs
            if job is not None and job.keepalive is not None:
                job.keepalive.release()
        if job is not None and future.cancelled():
            try:
                asyncio.run_coroutine_threadsafe(self._cancel(job), self._asyncio_loop)
            except RuntimeError:  # the loop is closed, and the task with it
                logger.debug('not canceling dask task %s: its loop is closed', job.key)
        if close_now:
            self._close_client()

    async def _cancel(self, job: _Job) -> None:
        # On the client's loop, where the client's methods return coroutines.
        if job.dask_future is not None:
            await self._client.cancel([job.dask_future])

    # -- shutting down -----------------------------------------------------------------

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Take no more work, and close the client if this executor connected it.

        *cancel_futures* cancels every future not done yet, and its dask task
        (one already running on a worker finishes there, its result dropped).
        With *wait*, blocks (cooperatively in a greenlet) until the remaining
        futures are done and the client is closed; without, returns at once
        and the client closes after the last future. A client passed in is
        left open. Waiting from the client's loop thread (a done-callback) is
        a RuntimeError. Calling it again is harmless.
        """
        if wait and self._in_loop_thread():
            raise RuntimeError("shutdown(wait=True) from the dask client's loop thread "
                               'would wait for itself')
        with self._lock:
            self._shutdown = True
            pending = list(self._jobs)
        if cancel_futures:
            for future in pending:
                future.cancel()
        if not wait:
            with self._lock:
                self._close_when_idle = True
                idle = not self._jobs
            if idle:
                self._close_client()
            return
        for future in pending:
            wait_future(future)
        closing = self._close_client()
        if closing is not None:
            _wait(closing)

    def _close_client(self) -> concurrent.futures.Future[None] | None:
        if not self._owns_client:
            return None
        with self._lock:
            if self._closing is None:
                self._closing = asyncio.run_coroutine_threadsafe(self._aclose(),
                                                                 self._asyncio_loop)
            return self._closing

    async def _aclose(self) -> None:
        try:
            await self._client.close()
        except Exception:
            logger.warning('closing the dask client failed', exc_info=True)
        else:
            logger.debug('DaskExecutor closed its client')

    def _in_loop_thread(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._asyncio_loop
        except RuntimeError:
            return False

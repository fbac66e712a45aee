"""The default supervisor, the ``background_task`` decorator and ``co_mp_apply``."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, ParamSpec, Protocol, TypeVar, overload

from ._aloop import ALoop
from ._constants import TASK_NORMAL, TT_COROUTINE, TT_MP, check_delay, check_priority, check_tt
from ._default import task_supervisor as task_supervisor
from ._policies import make_policy
from ._supervisor import TaskSupervisor
from ._task import Task

P = ParamSpec('P')
T = TypeVar('T')


class TaskDecorator(Protocol):
    """What ``background_task(priority=...)`` returns: a decorator that keeps
    the function's parameters and makes its calls return ``Task[result]``."""

    @overload
    def __call__(self, f: Callable[P, Coroutine[Any, Any, T]], /) -> Callable[P, Task[T]]: ...

    @overload
    def __call__(self, f: Callable[P, T], /) -> Callable[P, Task[T]]: ...


# A coroutine function's task gives what the coroutine returns: its overload comes first.
@overload
def background_task(
    f: Callable[P, Coroutine[Any, Any, T]], *, priority: int = ..., tt: int | None = ...,
    delay: float | None = ..., callback: Callable[[Any], object] | None = ...,
    loop: ALoop | str | None = ..., supervisor: TaskSupervisor | None = ..., name: str | None = ...,
    timeout: float | None = ..., soft_timeout: float | None = ..., retries: int = ...,
    retry_backoff: tuple[float, float] | None = ...,
    retry_on: tuple[type[BaseException], ...] | None = ..., rate: str | None = ...,
) -> Callable[P, Task[T]]: ...


@overload
def background_task(
    f: Callable[P, T], *, priority: int = ..., tt: int | None = ...,
    delay: float | None = ..., callback: Callable[[Any], object] | None = ...,
    loop: ALoop | str | None = ..., supervisor: TaskSupervisor | None = ..., name: str | None = ...,
    timeout: float | None = ..., soft_timeout: float | None = ..., retries: int = ...,
    retry_backoff: tuple[float, float] | None = ...,
    retry_on: tuple[type[BaseException], ...] | None = ..., rate: str | None = ...,
) -> Callable[P, Task[T]]: ...


@overload
def background_task(
    f: None = None, *, priority: int = ..., tt: int | None = ...,
    delay: float | None = ..., callback: Callable[[Any], object] | None = ...,
    loop: ALoop | str | None = ..., supervisor: TaskSupervisor | None = ..., name: str | None = ...,
    timeout: float | None = ..., soft_timeout: float | None = ..., retries: int = ...,
    retry_backoff: tuple[float, float] | None = ...,
    retry_on: tuple[type[BaseException], ...] | None = ..., rate: str | None = ...,
) -> TaskDecorator: ...


def background_task(
    f: Callable[..., object] | None = None,
    *,
    priority: int = TASK_NORMAL,
    tt: int | None = None,
    delay: float | None = None,
    callback: Callable[[Any], object] | None = None,
    loop: ALoop | str | None = None,
    supervisor: TaskSupervisor | None = None,
    name: str | None = None,
    timeout: float | None = None,
    soft_timeout: float | None = None,
    retries: int = 0,
    retry_backoff: tuple[float, float] | None = None,
    retry_on: tuple[type[BaseException], ...] | None = None,
    rate: str | None = None,
) -> Callable[..., object]:
    """Make *f* a background task: calling the result queues one task.

    Use it as ``@background_task``, as ``@background_task(priority=TASK_HIGH)``
    or as ``background_task(f, priority=...)``. Calling the returned function
    with ``(*args, **kwargs)`` queues ``f(*args, **kwargs)`` and returns its
    `Task` at once; *f* gets exactly those arguments, in every tier (no
    ``_task_id``: only `TaskSupervisor.put_task()` targets get it).

    Typed: the decorated function keeps its parameters, and a call returns
    ``Task[R]`` where ``R`` is what *f* returns (what it awaits to, for a
    coroutine function). Any thread; never blocks.

    Args:
        f: The function (or coroutine function); None when used as
            ``@background_task(...)``.
        priority: ``TASK_CRITICAL``, ``TASK_HIGH``, ``TASK_NORMAL`` or
            ``TASK_LOW``.
        tt: The tier; None runs a coroutine function on an aloop and
            anything else on the supervisor's ``default_tt``.
        delay: Seconds each task waits outside the pool before queuing.
        callback: Called with each task's result on success, in the
            supervisor's hub.
        loop: The aloop (or its name) of a coroutine function.
        supervisor: The `TaskSupervisor`; the default one when None.
        name: The tasks' name.
        timeout: A hard limit on each run, in seconds.
        soft_timeout: A soft limit on each run, in seconds.
        retries: How many times a failed run is run again.
        retry_backoff: ``(initial, maximum)`` seconds between retries.
        retry_on: The exception classes that are retried (default: all).
        rate: How often its tasks may start, e.g. ``'100/s'`` or ``'10/m'``,
            counted over all calls of the decorated function; see
            ``docs/policies.md``.

    Returns:
        object: The decorated function, or a decorator when *f* is None.

    Raises:
        TypeError: A bad argument, at decoration time.
        ValueError: A bad argument, at decoration time.
    """
    check_priority(priority)
    if tt is not None:
        check_tt(tt)
    check_delay(delay)
    if callback is not None and not callable(callback):
        raise TypeError(f'callback must be callable or None, got {callback!r}')
    if supervisor is not None and not isinstance(supervisor, TaskSupervisor):
        raise TypeError(f'supervisor must be a TaskSupervisor, got {supervisor!r}')
    policy = make_policy(timeout, soft_timeout, retries, retry_backoff, retry_on, rate)
    if f is None:
        return functools.partial(background_task, priority=priority, tt=tt, delay=delay,
                                 callback=callback, loop=loop, supervisor=supervisor, name=name,
                                 timeout=timeout, soft_timeout=soft_timeout, retries=retries,
                                 retry_backoff=retry_backoff, retry_on=retry_on, rate=rate)
    if not callable(f):
        raise TypeError(f'background_task() needs a callable, got {f!r}')
    is_coroutine = inspect.iscoroutinefunction(f)

    @functools.wraps(f)
    def queue(*args: object, **kwargs: object) -> Task[object]:
        sup = supervisor if supervisor is not None else task_supervisor
        task_tt = tt
        if task_tt is None:
            task_tt = TT_COROUTINE if is_coroutine else sup.default_tt
        return sup.put_task(f, args, kwargs, callback=callback, priority=priority, delay=delay,
                            tt=task_tt, name=name or getattr(f, '__name__', None), loop=loop,
                            _pass_task_id=False,  # f gets exactly its arguments, as in atasker
                            _policy=policy)  # one for all its tasks: they share its rate

    return queue


async def co_mp_apply(f: Callable[..., T], args: Iterable[object] = (),
                      kwargs: dict[str, object] | None = None, priority: int | None = None,
                      delay: float | None = None, supervisor: TaskSupervisor | None = None) -> T:
    """Run ``f(*args, **kwargs)`` in the process tier and return its result.

    A coroutine, for code on an aloop (or any asyncio loop): it awaits the
    task without blocking the loop. *f* gets exactly *args* and *kwargs*
    (no ``_task_id``). Cancelling the coroutine cancels the task if it has
    not started.

    Args:
        f: A picklable, module-level function.
        args: Its positional arguments.
        kwargs: Its keyword arguments.
        priority: The task's priority; ``TASK_NORMAL`` when None.
        delay: Seconds to wait outside the pool before queuing.
        supervisor: The `TaskSupervisor`; the default one when None.

    Returns:
        object: What *f* returned.

    Raises:
        BaseException: What *f* raised.
    """
    if supervisor is None:
        supervisor = task_supervisor
    task = supervisor.put_task(f, args, kwargs, tt=TT_MP, delay=delay,
                               priority=TASK_NORMAL if priority is None else priority,
                               _pass_task_id=False)
    return await task

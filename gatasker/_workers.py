"""``background_worker``: a function made the executor of a new worker.

The worker classes live in their own modules: ``_worker`` (the base and the
async worker), ``_queue_worker``, ``_event_worker`` and ``_interval_worker``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal, overload

from ._cron import BackgroundCronWorker
from ._event_worker import BackgroundEventWorker
from ._interval_worker import BackgroundIntervalWorker
from ._queue_worker import BackgroundQueueWorker
from ._worker import BackgroundAsyncWorker, BackgroundWorker
from ._worker_types import Executor, WorkerOptions

if TYPE_CHECKING:  # annotations only
    from typing_extensions import Unpack

__all__ = ['BackgroundAsyncWorker', 'BackgroundEventWorker', 'BackgroundIntervalWorker',
           'BackgroundQueueWorker', 'BackgroundWorker', 'background_worker']

class NamedOptions(WorkerOptions, total=False):
    """The keywords of a worker that the decorator passes on: `WorkerOptions` and *name*."""

    name: str | None


# Typed overloads, in the order _make_worker picks the class (q before e before timing).
@overload
def background_worker(f: Callable[..., Awaitable[object]], /) -> BackgroundAsyncWorker: ...
@overload
def background_worker(f: Executor, /) -> BackgroundWorker: ...
@overload
def background_worker(*, q: Literal[True] | type, **kwargs: Unpack[NamedOptions]
                      ) -> Callable[[Executor], BackgroundQueueWorker]: ...
@overload
def background_worker(*, queue: Literal[True] | type, **kwargs: Unpack[NamedOptions]
                      ) -> Callable[[Executor], BackgroundQueueWorker]: ...
@overload
def background_worker(*, e: Literal[True], **kwargs: Unpack[NamedOptions]
                      ) -> Callable[[Executor], BackgroundEventWorker]: ...
@overload
def background_worker(*, event: Literal[True], **kwargs: Unpack[NamedOptions]
                      ) -> Callable[[Executor], BackgroundEventWorker]: ...
@overload
def background_worker(*, interval: float, **kwargs: object
                      ) -> Callable[[Executor], BackgroundIntervalWorker]: ...
@overload
def background_worker(*, i: float, **kwargs: object
                      ) -> Callable[[Executor], BackgroundIntervalWorker]: ...
@overload
def background_worker(*, delay: float, **kwargs: object
                      ) -> Callable[[Executor], BackgroundIntervalWorker]: ...
@overload
def background_worker(*, delay_after: float, **kwargs: object
                      ) -> Callable[[Executor], BackgroundIntervalWorker]: ...
@overload
def background_worker(*, delay_before: float, **kwargs: object
                      ) -> Callable[[Executor], BackgroundIntervalWorker]: ...
@overload
def background_worker(**kwargs: object) -> Callable[[Executor], BackgroundWorker]: ...


def background_worker(*args: object, **kwargs: object
                      ) -> BackgroundWorker | Callable[[Executor], BackgroundWorker]:
    """Make a function the executor of a new worker and return the worker.

    ``@background_worker`` makes a `BackgroundWorker` (a
    `BackgroundAsyncWorker` for a coroutine function);
    ``@background_worker(interval=1)`` / ``(i=...)`` / ``(delay=...)`` /
    ``(delay_after=...)`` / ``(delay_before=...)`` a
    `BackgroundIntervalWorker`; ``(q=True)`` / ``(queue=...)`` a
    `BackgroundQueueWorker`; ``(e=True)`` / ``(event=True)`` a
    `BackgroundEventWorker`; ``(cron='*/5 * * * *')`` a
    `BackgroundCronWorker` (the ``cron`` extra). The worker is not started:
    call its ``start()``.

    Args:
        *args: The executor, when used without parentheses.
        **kwargs: The kind of worker (above); the other keywords go to the
            worker's constructor.

    Returns:
        object: The worker, or a decorator that makes it.

    Raises:
        TypeError: Positional arguments other than one executor, or an
            executor that is not callable.
    """
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return _make_worker(args[0], {})
    if args:
        raise TypeError('background_worker takes the executor or keyword arguments only')

    def decorate(func: Executor) -> BackgroundWorker:
        return _make_worker(func, dict(kwargs))

    return decorate


_TIMING = ('interval', 'i', 'delay', 'delay_after', 'delay_before')


def _make_worker(func: Executor, kwargs: dict[str, object]) -> BackgroundWorker:
    if not callable(func):
        raise TypeError(f'background_worker needs a callable, got {func!r}')
    cls = _worker_class(func, kwargs)
    for key in ('e', 'event', 'q', 'queue', *_TIMING):
        if key in kwargs and kwargs[key] in (None, False) and cls is not BackgroundQueueWorker:
            kwargs.pop(key)
    return cls(func=func, **kwargs)


def _worker_class(func: Executor, kwargs: dict[str, object]) -> Callable[..., BackgroundWorker]:
    """The class the keywords ask for (``e``/``event`` taken out); its constructor
    checks the other keywords at run time."""
    if kwargs.get('cron') is not None:
        return BackgroundCronWorker  # croniter (the extra 'cron') is imported when used
    if kwargs.get('q') or kwargs.get('queue'):
        return BackgroundQueueWorker
    if kwargs.pop('e', False) or kwargs.pop('event', False):
        return BackgroundEventWorker
    if any(kwargs.get(k) is not None for k in _TIMING):
        return BackgroundIntervalWorker
    if inspect.iscoroutinefunction(func):
        return BackgroundAsyncWorker
    return BackgroundWorker

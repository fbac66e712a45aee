"""``background_worker``: a function made the executor of a new worker.

The worker classes live in their own modules: ``_worker`` (the base and the
async worker), ``_queue_worker``, ``_event_worker`` and ``_interval_worker``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, Literal, overload

from ._event_worker import BackgroundEventWorker
from ._interval_worker import BackgroundIntervalWorker
from ._queue_worker import BackgroundQueueWorker
from ._worker import BackgroundAsyncWorker, BackgroundWorker

__all__ = ['BackgroundAsyncWorker', 'BackgroundEventWorker', 'BackgroundIntervalWorker',
           'BackgroundQueueWorker', 'BackgroundWorker', 'background_worker']


# Typed overloads, in the order _make_worker picks the class (q before e before timing).
@overload
def background_worker(f: Callable[..., Coroutine[Any, Any, Any]], /) -> BackgroundAsyncWorker: ...
@overload
def background_worker(f: Callable[..., Any], /) -> BackgroundWorker: ...
@overload
def background_worker(*, q: Literal[True] | type[Any], **kwargs: Any
                      ) -> Callable[[Callable[..., Any]], BackgroundQueueWorker]: ...
@overload
def background_worker(*, queue: Literal[True] | type[Any], **kwargs: Any
                      ) -> Callable[[Callable[..., Any]], BackgroundQueueWorker]: ...
@overload
def background_worker(*, e: Literal[True], **kwargs: Any
                      ) -> Callable[[Callable[..., Any]], BackgroundEventWorker]: ...
@overload
def background_worker(*, event: Literal[True], **kwargs: Any
                      ) -> Callable[[Callable[..., Any]], BackgroundEventWorker]: ...
@overload
def background_worker(*, interval: float, **kwargs: Any
                      ) -> Callable[[Callable[..., Any]], BackgroundIntervalWorker]: ...
@overload
def background_worker(*, i: float, **kwargs: Any
                      ) -> Callable[[Callable[..., Any]], BackgroundIntervalWorker]: ...
@overload
def background_worker(*, delay: float, **kwargs: Any
                      ) -> Callable[[Callable[..., Any]], BackgroundIntervalWorker]: ...
@overload
def background_worker(*, delay_after: float, **kwargs: Any
                      ) -> Callable[[Callable[..., Any]], BackgroundIntervalWorker]: ...
@overload
def background_worker(*, delay_before: float, **kwargs: Any
                      ) -> Callable[[Callable[..., Any]], BackgroundIntervalWorker]: ...
@overload
def background_worker(**kwargs: Any) -> Callable[[Callable[..., Any]], BackgroundWorker]: ...


def background_worker(*args: Any, **kwargs: Any) -> Any:
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

    def decorate(func: Callable[..., Any]) -> Any:
        return _make_worker(func, dict(kwargs))

    return decorate


_TIMING = ('interval', 'i', 'delay', 'delay_after', 'delay_before')


def _make_worker(func: Callable[..., Any], kwargs: dict[str, Any]) -> BackgroundWorker:
    if not callable(func):
        raise TypeError(f'background_worker needs a callable, got {func!r}')
    cls: type[BackgroundWorker]
    if kwargs.get('cron') is not None:
        from ._cron import BackgroundCronWorker  # imports croniter: the extra 'cron'
        cls = BackgroundCronWorker
    elif kwargs.get('q') or kwargs.get('queue'):
        cls = BackgroundQueueWorker
    elif kwargs.pop('e', False) or kwargs.pop('event', False):
        cls = BackgroundEventWorker
    elif any(kwargs.get(k) is not None for k in _TIMING):
        cls = BackgroundIntervalWorker
    elif inspect.iscoroutinefunction(func):
        cls = BackgroundAsyncWorker
    else:
        cls = BackgroundWorker
    for key in ('e', 'event', 'q', 'queue', *_TIMING):
        if key in kwargs and kwargs[key] in (None, False) and cls is not BackgroundQueueWorker:
            kwargs.pop(key)
    return cls(func=func, **kwargs)

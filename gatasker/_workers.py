"""Workers: actors that run an executor on timer ticks, triggers or queue items.

Each run of the executor is a task in the worker's tier (``tt=``, default
``supervisor.default_tt``) under the worker's priority, so workers share the
pools' accounting; the worker's greenlet waits for the task cooperatively and
holds no slot while idle. Timer ticks and triggers are flags that coalesce,
queue items are mailbox messages.
"""

from __future__ import annotations

import asyncio
import inspect
import queue as std_queue
import time
import warnings
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Literal, overload

import gevent
import gevent.queue
from zope.interface import implementer

from . import _logging, _tracing
from ._actor import Actor
from ._constants import TASK_NORMAL, TT_MP, check_priority, check_tt
from ._errors import ActorNotRunning, SupervisorNotRunning
from ._interfaces import IWorker
from ._logging import logger
from ._mailbox import HeapMailbox, Mailbox
from ._policies import make_policy
from ._schedule import Schedule, check_timing

#: start() keyword arguments that change the worker instead of reaching the executor.
CONTROL_KWARGS = ('_priority', '_interval', '_delay', '_delay_after', '_delay_before', '_loop',
                  '_name')

#: Timing keywords only interval workers take (``_``-prefixed at start()).
TIMING_KWARGS = ('_interval', '_delay', '_delay_after', '_delay_before')


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


DONE = Done()


def _one_of(name: str, value: Any, alias: str, alias_value: Any) -> Any:
    """The value of a keyword that has an atasker alias; TypeError if both are given."""
    if alias_value is None:
        return value
    if value is not None:
        raise TypeError(f'{name}= and {alias}= are the same setting: give one of them')
    return alias_value


@implementer(IWorker)
class BackgroundWorker(Actor):
    """Runs its executor over and over, yielding to the hub between runs.

    Define the executor by overriding ``run(self, *args, **kwargs)`` or with
    ``func=`` (alias ``executor_func=``). It gets the ``start()`` arguments
    plus ``_worker``, ``_name``, ``o`` and ``_task_id``. Returning False stops
    the worker; an exception is logged and passed to
    ``on_error(**on_error_kwargs)``, and the worker keeps running — unless
    ``fail_on_error`` is true (set it on the class or the worker): then the
    worker fails, and stops, or its ActorSupervisor restarts it.

    ``timeout=``/``soft_timeout=`` limit each run of the executor as
    ``put_task`` does (a run that times out is a failure with
    ``gatasker.TaskTimeout``), and ``rate='10/m'`` how often runs start
    (a run past the rate waits outside the pool); see ``docs/policies.md``.
    """

    #: Whether an executor exception fails the worker (see the class docstring).
    fail_on_error = False

    def __init__(self, name: str | None = None, func: Callable[..., Any] | None = None,
                 executor_func: Callable[..., Any] | None = None, priority: int = TASK_NORMAL,
                 o: Any = None, on_error: Callable[..., Any] | None = None,
                 on_error_kwargs: dict[str, Any] | None = None, supervisor: Any = None,
                 poll_delay: float | None = None, tt: int | None = None, loop: Any = None,
                 timeout: float | None = None, soft_timeout: float | None = None,
                 rate: str | None = None, **kwargs: Any) -> None:
        if 'daemon' in kwargs:
            kwargs.pop('daemon')
            warnings.warn('daemon= is ignored: workers are greenlets and never keep the '
                          'process alive', DeprecationWarning, stacklevel=2)
        if kwargs:
            raise TypeError(f'{type(self).__name__}() got unexpected keyword arguments: '
                            f'{sorted(kwargs)}')
        func = func or executor_func
        if func is not None and not callable(func):
            raise TypeError(f'func must be callable, got {func!r}')
        if on_error is not None and not callable(on_error):
            raise TypeError(f'on_error must be callable, got {on_error!r}')
        if on_error_kwargs is not None and not isinstance(on_error_kwargs, dict):
            raise TypeError(f'on_error_kwargs must be a dict, got {on_error_kwargs!r}')
        if tt is not None:
            check_tt(tt)
        #: The run-time limits of each run of the executor (docs/policies.md).
        self._policy = make_policy(timeout, soft_timeout, rate=rate)
        if name is None and func is not None:
            name = getattr(func, '__name__', None)
        self._configure_actor(name, priority, supervisor)
        self._func = func
        self.o = o
        self.on_error = on_error
        self.on_error_kwargs = on_error_kwargs or {}
        self.poll_delay = poll_delay  # accepted for atasker code; nothing polls
        self.tt = tt
        self.loop = loop
        self._args: tuple[Any, ...] = ()
        self._kwargs: dict[str, Any] = {}
        self._task: Any = None  # the executor task in progress
        self._coroutine = False  # the executor is a coroutine function (set at start)
        self._was_started = False

    @classmethod
    def spawn(cls, *args: Any, **kwargs: Any) -> Any:
        """Construct the worker with ``cls(*args, **kwargs)``, start it and return it."""
        worker = cls(*args, **kwargs)
        worker.start()
        return worker

    # -- what runs where -----------------------------------------------------------

    @property
    def executor(self) -> Callable[..., Any]:
        """The executor: ``func=`` if given, else the ``run`` method."""
        return self._func if self._func is not None else self.run

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """The executor, when no ``func=`` was given: override it."""
        raise NotImplementedError(f'{type(self).__name__} needs func= or a run() method')

    def _runs_in_processes(self) -> bool:
        return self._func is None and isinstance(
            inspect.getattr_static(type(self), 'run', None), staticmethod)

    def process_result(self, result: Any) -> Any:
        """With a ``@staticmethod run`` (process tier): gets each result; False stops."""
        return None

    # -- life cycle ---------------------------------------------------------------

    def start(self, *args: Any, **kwargs: Any) -> bool:
        """Start the worker; False if it is already running.

        *args* and *kwargs* reach the executor on every run, except the
        control keywords ``_priority``, ``_interval``, ``_delay`` (alias
        ``_delay_after``), ``_delay_before``, ``_loop`` and ``_name``, which
        change the worker. ``o=`` here replaces the constructor's ``o`` for
        this start. Any thread or greenlet; never blocks for long.
        """
        if self.is_alive():
            return False
        controls = {k: kwargs.pop(k) for k in CONTROL_KWARGS if k in kwargs}
        self._apply_controls(controls)
        if self._runs_in_processes() and self.tt is None:
            self.tt = TT_MP
        self._coroutine = inspect.iscoroutinefunction(self.executor)
        if self._coroutine:
            self._check_async_support()
        self._args, self._kwargs = args, kwargs
        started = super().start()
        if started:
            self._was_started = True
            if _logging._debug:
                logger.debug('worker %s started', self.name)
        return started

    def _apply_controls(self, controls: dict[str, Any]) -> None:
        # Check every control before changing anything.
        for key in TIMING_KWARGS:
            if key in controls:
                raise TypeError(f'{key} applies only to interval workers')
        if '_priority' in controls:
            check_priority(controls['_priority'])
        if '_name' in controls and not isinstance(controls['_name'], str):
            raise TypeError(f"_name must be a str, got {controls['_name']!r}")
        if '_priority' in controls:
            self._actor.priority = controls['_priority']
        if '_name' in controls:
            self._actor.name = controls['_name']
        if '_loop' in controls:
            self.loop = controls['_loop']

    def _check_async_support(self) -> None:
        if not hasattr(self.supervisor, '_run_coroutine_executor'):
            raise RuntimeError(f'{self.name}: coroutine executors need aloops, which this '
                               'version of gatasker does not provide yet')

    def stop(self, wait: bool | float = True, drain: bool = False) -> bool:
        """Stop the worker; waits for the run in progress (at most *wait* seconds).

        A run still waiting for a pool slot is canceled (a queue worker counts
        its item as not run), except with *drain*, which runs it. Never hangs
        on a worker that failed or returned False.
        """
        task = self._task
        if task is not None and not drain and not self._actor.stopping and not task.is_started():
            task.cancel()
        stopped = super().stop(wait=wait, drain=drain)
        if stopped and _logging._debug:
            logger.debug('worker %s stopped', self.name)
        return stopped

    def restart(self, *args: Any, **kwargs: Any) -> bool:
        """Stop (waiting for the run in progress) and start again.

        Without arguments the worker restarts with those of its last start.
        """
        self.stop(wait=True)
        if not args and not kwargs:
            args, kwargs = self._args, dict(self._kwargs)
        return self.start(*args, **kwargs)

    def is_active(self) -> bool:
        """True while the worker runs. Never blocks."""
        return self.is_alive()

    def is_started(self) -> bool:
        """True while the worker runs (atasker's name). Never blocks."""
        return self.is_alive()

    def is_stopped(self) -> bool:
        """True when the worker does not run. Never blocks."""
        return not self.is_alive()

    # -- running the executor ------------------------------------------------------

    def _has_work(self) -> bool:
        return True  # back to back

    def _do_work(self) -> None:
        self._execute(())

    def _execute(self, leading: tuple[Any, ...]) -> None:
        """Run the executor once as a task and wait for it (worker greenlet)."""
        sup = self.supervisor
        kwargs = dict(self._kwargs)
        kwargs.setdefault('o', self.o)  # start(o=...) wins, as in atasker
        kwargs.update(_worker=self, _name=self.name)
        try:
            task = self._submit(sup, leading, kwargs)
        except SupervisorNotRunning:
            # The supervisor stops (with stop_schedulers=False): so does the worker.
            if _logging._debug:
                logger.debug('worker %s: supervisor stopped, worker stops', self.name)
            self._not_run(leading)
            self.stop(wait=False)
            return
        ran_here = task.done()  # in this greenlet, without a yield to the hub
        self._task = task
        try:
            task.wait()
        finally:
            self._task = None
        self._handle_outcome(task, leading)
        if ran_here and not self._actor.stopping and self._has_work():
            gevent.sleep(0)  # between runs, as a queued run would, so others get the hub

    def _handle_outcome(self, task: Any, leading: tuple[Any, ...]) -> None:
        if task.is_canceled():
            self._not_run(leading)
            return
        self._actor.handled += 1
        if task.exception is not None:
            self._actor.failed += 1
            self._executor_failed(task.exception)
            return
        result = task.result
        if task.tt == TT_MP:
            try:
                result = self.process_result(result)
            except BaseException as exc:  # handled like the executor's own failure
                self._executor_failed(exc)
                return
        if result is False:
            self.stop(wait=False)

    def _submit(self, sup: Any, leading: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self._coroutine:
            return sup._run_coroutine_executor(self.executor, leading + self._args, kwargs,
                                               self.loop, policy=self._policy)
        else:
            tt = self.tt if self.tt is not None else sup.default_tt
            target = type(self).run if tt == TT_MP and self._func is None else self.executor
            if tt == TT_MP:
                kwargs.pop('_worker')  # a worker does not travel to another process
                if 'o' not in self._kwargs:
                    kwargs.pop('o')  # nor its object, unless start() was given one
            task = sup._put_worker_task(self, target, leading + self._args, kwargs,
                                        self._actor.priority, tt, policy=self._policy)
        return task

    def _not_run(self, leading: tuple[Any, ...]) -> None:
        """Hook: a run was taken but never started (canceled at a stop)."""

    def _executor_failed(self, exc: BaseException) -> None:
        logger.error('worker %s: the executor failed', self.name, exc_info=exc)
        if self.on_error is not None:
            try:
                self.on_error(**self.on_error_kwargs)
            except BaseException:  # the worker goes on
                logger.exception('worker %s: on_error failed', self.name)
        if self.fail_on_error:
            self._actor.failure = exc  # the loop ends after this run


class BackgroundAsyncWorker(BackgroundWorker):
    """A worker whose executor is a coroutine function, run on an aloop.

    ``loop=`` (or ``_loop=`` at start) names the aloop or gives the ALoop
    object; by default the supervisor's default aloop.
    """


class BackgroundQueueWorker(BackgroundWorker):
    """Runs the executor once per item: ``tell(item)``, ``put(item)`` and
    ``put_threadsafe(item)`` are the same thing, from any thread.

    ``q=True`` keeps FIFO order; ``q=<a priority queue class>`` (the stdlib's,
    asyncio's or gevent's ``PriorityQueue``) serves the smallest item first.
    The executor gets the item as its first argument. Items still queued at
    ``stop()`` are run first with ``stop(drain=True)``; otherwise their count is
    logged.
    """

    def __init__(self, *args: Any, q: Any = True, queue: Any = None, **kwargs: Any) -> None:
        kind = queue if queue is not None else q
        self._queue_kind = kind
        mailbox: type = Mailbox
        if isinstance(kind, type) and issubclass(kind, _PRIORITY_QUEUES):
            mailbox = HeapMailbox
        elif not (kind is True or kind is None or isinstance(kind, type)):
            raise TypeError(f'q must be True or a queue class, got {kind!r}')
        self.__dict__['mailbox_class'] = mailbox  # per worker: a queue kind may differ
        super().__init__(*args, **kwargs)

    def _has_work(self) -> bool:
        return bool(self._actor.mailbox)

    def _do_work(self) -> None:
        item, told = self._actor.mailbox.pop()
        self._took()
        if told is not None and told.context is not None and _tracing.tracer is not None:
            with _tracing.tracer.message_handling(self, told.context):
                self._execute((item,))
        else:
            self._execute((item,))

    def put(self, item: Any) -> Done:
        """Queue *item*. Any thread or greenlet; never blocks.

        Returns an awaitable that is already done, so atasker's
        ``await worker.put(item)`` works too.
        """
        self.tell(item)
        return DONE

    put_threadsafe = put

    def _not_run(self, leading: tuple[Any, ...]) -> None:
        # The item left the mailbox but its run was canceled: report it with the rest.
        self._actor.dropped += 1

    def _drop_leftovers(self) -> None:
        if self._actor.dropped:
            logger.warning('queue worker %s stopped with %d queued item(s) not run',
                           self.name, self._actor.dropped)
            self._actor.dropped = 0


_PRIORITY_QUEUES = (std_queue.PriorityQueue, asyncio.PriorityQueue, gevent.queue.PriorityQueue)


class BackgroundEventWorker(BackgroundWorker):
    """Runs the executor once per trigger: ``trigger()``, ``trigger_threadsafe()``
    and ``tell()`` are the same thing, from any thread.

    A trigger that arrives while the executor runs is dropped, or with
    ``force=True`` makes (at most) one more run afterwards.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop('e', None)
        kwargs.pop('event', None)
        super().__init__(*args, **kwargs)
        self._triggered = False
        self._running = False

    def _on_actor_start(self) -> None:
        self._triggered = False
        self._running = False

    def trigger(self, force: bool = False) -> Done:
        """Ask for a run. Any thread or greenlet; never blocks.

        Returns an awaitable that is already done, so atasker's
        ``await worker.trigger()`` works too.
        """
        core = self._actor
        if core.state != 'running' or core.stopping or core.run.finished:
            raise ActorNotRunning(f'{self!r} is not running')
        run = core.run
        if run.inbox.in_owner_thread():
            self._on_trigger(force)
        else:
            run.inbox.put((self._on_trigger, (force,)))
        return DONE

    trigger_threadsafe = trigger

    def tell(self, message: Any = None, priority: int = TASK_NORMAL, block: bool = False) -> None:
        """The same as :meth:`trigger`; *message* is ignored."""
        check_priority(priority)
        self.trigger()

    def _on_trigger(self, force: bool) -> None:
        if self._running and not force:
            return  # atasker's semantics: a trigger during a run is dropped
        self._triggered = True
        self._wake()

    def _has_work(self) -> bool:
        return self._triggered

    def _do_work(self) -> None:
        self._triggered = False
        self._running = True
        try:
            self._execute(())
        finally:
            self._running = False


class BackgroundIntervalWorker(BackgroundEventWorker):
    """Runs the executor on a schedule: ``interval=`` (alias ``i=``; start to
    start, on a grid, no drift, no overlap), ``delay=`` (alias
    ``delay_after=``; end to start) and ``delay_before=`` (before each run).
    With neither ``interval`` nor ``delay`` it waits 1 s between runs
    (atasker's default). ``trigger()`` runs it now as well.
    """

    def __init__(self, *args: Any, interval: float | None = None, delay: float | None = None,
                 delay_before: float | None = None, i: float | None = None,
                 delay_after: float | None = None, **kwargs: Any) -> None:
        interval = _one_of('interval', interval, 'i', i)
        delay = _one_of('delay', delay, 'delay_after', delay_after)
        if interval is None and delay is None:
            delay = DEFAULT_DELAY
        check_timing(interval, delay, delay_before)
        super().__init__(*args, **kwargs)
        self.interval = interval
        self.delay = delay
        self.delay_before = delay_before
        self._schedule: Schedule | None = None
        self._timer: Any = None

    def _apply_controls(self, controls: dict[str, Any]) -> None:
        timing = {k: controls.pop(k) for k in TIMING_KWARGS if k in controls}
        if '_delay_after' in timing:
            timing['_delay'] = _one_of('_delay', timing.get('_delay'), '_delay_after',
                                       timing.pop('_delay_after'))
        if timing:
            interval = timing.get('_interval', self.interval)
            delay = timing.get('_delay', self.delay)
            if '_interval' in timing and '_delay' not in timing:
                delay = None
            if '_delay' in timing and '_interval' not in timing:
                interval = None
            delay_before = timing.get('_delay_before', self.delay_before)
            check_timing(interval, delay, delay_before)
        super()._apply_controls(controls)  # checks the rest before changing anything
        if timing:
            self.interval, self.delay, self.delay_before = interval, delay, delay_before

    def _on_actor_start(self) -> None:
        super()._on_actor_start()
        self._schedule = self._make_schedule()
        run = self._actor.run
        first = self._schedule.first(time.monotonic())
        if run.inbox.in_owner_thread():
            self._arm(first)
        else:
            run.inbox.put((self._arm, (first,)))

    def _make_schedule(self) -> Schedule:
        """Hook: what computes the start times (a cron worker's differs)."""
        return Schedule(self.interval, self.delay, self.delay_before)

    def _arm(self, when: float) -> None:
        # In the hub's thread: one timer per worker, re-armed after each run.
        self._disarm()
        if self._actor.stopping:
            return
        timer = self._actor.run.hub.loop.timer(max(0.0, when - time.monotonic()))
        self._timer = timer
        timer.start(self._on_trigger, True)

    def _disarm(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.close()

    def _do_work(self) -> None:
        assert self._schedule is not None
        self._schedule.started(time.monotonic())
        super()._do_work()
        if not self._actor.stopping:
            self._arm(self._schedule.next(time.monotonic()))

    def _on_actor_stop(self) -> None:
        run = self._actor.run
        if run is not None and not run.finished:
            if run.inbox.in_owner_thread():
                self._disarm()
            else:
                run.inbox.put((self._disarm, ()))

    def _finish(self) -> None:
        self._disarm()
        super()._finish()


#: Seconds between runs of an interval worker given neither interval nor delay.
DEFAULT_DELAY = 1


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

    ``@background_worker`` → :class:`BackgroundWorker` (or
    :class:`BackgroundAsyncWorker` for a coroutine function);
    ``@background_worker(interval=1)`` / ``(i=...)`` / ``(delay=...)`` /
    ``(delay_after=...)`` / ``(delay_before=...)`` → :class:`BackgroundIntervalWorker`;
    ``(q=True)`` / ``(queue=...)`` → :class:`BackgroundQueueWorker`;
    ``(e=True)`` / ``(event=True)`` → :class:`BackgroundEventWorker`;
    ``(cron='*/5 * * * *')`` → :class:`BackgroundCronWorker` (the ``cron``
    extra). Other keywords go to the worker. The worker is not started: call ``start()``.
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

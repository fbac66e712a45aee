"""The worker base: an actor that runs its executor as tasks, back to back.

Each run of the executor is a task in the worker's tier (``tt=``, default
``supervisor.default_tt``) under the worker's priority, so workers share the
pools' accounting; the worker's greenlet waits for the task cooperatively and
holds no slot while idle.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gevent
from zope.interface import implementer

from ._actor import Actor
from ._actor_loop import Steps
from ._constants import TASK_NORMAL, TT_MP, check_on_error, check_priority, check_tt
from ._errors import SupervisorNotRunning
from ._interfaces import IWorker
from ._logging import is_debug, logger
from ._policies import make_policy
from ._port import ActorHost
from ._worker_types import (
    CONTROL_KWARGS,
    TIMING_KWARGS,
    Executor,
    Run,
)

if TYPE_CHECKING:  # annotations only
    from typing_extensions import Self

    from ._aloop import ALoop
    from ._supervisor import TaskSupervisor


def _check_arguments(kind: str, func: object, on_error: object, on_error_kwargs: object,
                     tt: int | None, extra: dict[str, object]) -> None:
    """What `BackgroundWorker.__init__` checks before it changes anything."""
    if 'daemon' in extra:
        extra.pop('daemon')
        warnings.warn('daemon= is ignored: workers are greenlets and never keep the '
                      'process alive', DeprecationWarning, stacklevel=3)
    if extra:
        raise TypeError(f'{kind}() got unexpected keyword arguments: {sorted(extra)}')
    if func is not None and not callable(func):
        raise TypeError(f'func must be callable, got {func!r}')
    check_on_error(on_error, on_error_kwargs)
    if tt is not None:
        check_tt(tt)


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

    def __init__(self, name: str | None = None, func: Executor | None = None,
                 executor_func: Executor | None = None, priority: int = TASK_NORMAL,
                 o: object = None, on_error: Callable[..., object] | None = None,
                 on_error_kwargs: dict[str, object] | None = None,
                 supervisor: TaskSupervisor | None = None, poll_delay: float | None = None,
                 tt: int | None = None, loop: ALoop | str | None = None,
                 timeout: float | None = None, soft_timeout: float | None = None,
                 rate: str | None = None, **kwargs: object) -> None:
        """Configure the worker; it runs after `start`.

        Args:
            name: The worker's name (default: the executor's ``__name__``).
            func: The executor (alias *executor_func*); default: the ``run`` method.
            executor_func: atasker's name for *func*.
            priority: The priority of every run's task.
            o: An object passed to the executor as ``o=``.
            on_error: Called as ``on_error(**on_error_kwargs)`` after a failed run.
            on_error_kwargs: The keywords of *on_error*.
            supervisor: The supervisor (default: the default one).
            poll_delay: Accepted for atasker code; nothing polls.
            tt: The tier of the runs (default: the supervisor's ``default_tt``).
            loop: The aloop (or its name) of a coroutine executor.
            timeout: Hard time limit of each run, in seconds.
            soft_timeout: Soft time limit of each run, in seconds.
            rate: How often runs may start, e.g. ``'10/m'``.
            **kwargs: ``daemon=`` only, ignored with a DeprecationWarning.

        Raises:
            TypeError: A keyword it does not take, or an argument of the wrong type.
            ValueError: A bad priority, tier or time limit.
        """
        func = func or executor_func
        _check_arguments(type(self).__name__, func, on_error, on_error_kwargs, tt, kwargs)
        #: The run-time limits of each run of the executor (docs/policies.md).
        self._policy = make_policy(timeout, soft_timeout, rate=rate)
        if name is None and func is not None:
            name = getattr(func, '__name__', None)
        self._actor.configure(name, priority, supervisor, None)
        self._func = func
        self.o = o
        self.on_error = on_error
        self.on_error_kwargs = on_error_kwargs or {}
        self.poll_delay = poll_delay  # accepted for atasker code; nothing polls
        self.tt = tt
        #: The aloop (or its name) of a coroutine executor, resolved by the supervisor.
        self.loop: object = loop
        self._args: tuple[object, ...] = ()
        self._kwargs: dict[str, object] = {}
        self._task: Run | None = None  # the executor task in progress
        self._coroutine = False  # the executor is a coroutine function (set at start)
        self._was_started = False

    @classmethod
    def spawn(cls, *args: Any, **kwargs: Any) -> Self:
        """Construct the worker with ``cls(*args, **kwargs)``, start it and return it.

        Any thread or greenlet; never blocks for long.

        Raises:
            SupervisorNotRunning: The supervisor does not run.
        """
        worker = cls(*args, **kwargs)
        worker.start()
        return worker

    # -- what runs where -----------------------------------------------------------

    @property
    def executor(self) -> Executor:
        """The executor: ``func=`` if given, else the ``run`` method."""
        return self._func if self._func is not None else self.run

    def run(self, *args: Any, **kwargs: Any) -> object:
        """The executor, when no ``func=`` was given: override it.

        A ``@staticmethod`` ``run`` runs in the process tier (`process_result`
        gets its results). ``Any`` arguments so that an override may take any.
        """
        raise NotImplementedError(f'{type(self).__name__} needs func= or a run() method')

    def _runs_in_processes(self) -> bool:
        return self._func is None and isinstance(
            inspect.getattr_static(type(self), 'run', None), staticmethod)

    def process_result(self, result: Any) -> object:
        """With a ``@staticmethod run`` (process tier): gets each result.

        Runs in the worker's greenlet. ``Any`` so that an override may name the
        type its ``run`` returns.

        Returns:
            False to stop the worker.
        """
        return None

    # -- life cycle ---------------------------------------------------------------

    def start(self, *args: object, **kwargs: object) -> bool:
        """Start the worker. Any thread or greenlet; never blocks for long.

        Args:
            *args: Passed to the executor on every run.
            **kwargs: Passed to the executor on every run, except the control
                keywords ``_priority``, ``_interval``, ``_delay`` (alias
                ``_delay_after``), ``_delay_before``, ``_loop`` and ``_name``,
                which change the worker. ``o=`` here replaces the
                constructor's ``o`` for this start.

        Returns:
            False if it is already running.

        Raises:
            SupervisorNotRunning: The supervisor does not run.
            TypeError: A control keyword of the wrong type or for another kind of worker.
        """
        if self.is_alive():
            return False
        controls = {k: kwargs.pop(k) for k in CONTROL_KWARGS if k in kwargs}
        self._apply_controls(controls)
        if self._runs_in_processes() and self.tt is None:
            self.tt = TT_MP
        self._coroutine = inspect.iscoroutinefunction(self.executor)
        self._args, self._kwargs = args, kwargs
        started = super().start()
        if started:
            self._was_started = True
            if is_debug():
                logger.debug('worker %s started', self.name)
        return started

    def _apply_controls(self, controls: dict[str, object]) -> None:
        """Hook: check, then apply, the control keywords of a start."""
        for key in TIMING_KWARGS:
            if key in controls:
                raise TypeError(f'{key} applies only to interval workers')
        self._apply_common_controls(controls)

    def _apply_common_controls(self, controls: dict[str, object]) -> None:
        """``_priority``, ``_name`` and ``_loop``: all checked, then applied."""
        priority = check_priority(controls['_priority']) if '_priority' in controls else None
        name = controls.get('_name')
        if '_name' in controls and not isinstance(name, str):
            raise TypeError(f'_name must be a str, got {name!r}')
        if priority is not None:
            self._actor.priority = priority
        if isinstance(name, str):
            self._actor.name = name
        if '_loop' in controls:
            self.loop = controls['_loop']

    def stop(self, wait: bool | float = True, drain: bool = False) -> bool:
        """Stop the worker after the run in progress. Any thread or greenlet.

        A run still waiting for a pool slot is canceled (a queue worker counts
        its item as not run), except with *drain*, which runs it. Never hangs
        on a worker that failed or returned False.

        Args:
            wait: True to block until the worker ended (cooperatively in a
                greenlet), a number for at most that many seconds, False not to wait.
            drain: Run what is queued (items, a waiting run) before ending.

        Returns:
            False if it was not running.
        """
        task = self._task
        if task is not None and not drain and not self._actor.stopping and not task.is_started():
            task.cancel()
        stopped = super().stop(wait=wait, drain=drain)
        if stopped and is_debug():
            logger.debug('worker %s stopped', self.name)
        return stopped

    def _start_again(self) -> None:
        """Start with the arguments of the last start (a supervised restart, or
        in a forked child)."""
        self.start(*self._args, **self._kwargs)

    def restart(self, *args: object, **kwargs: object) -> bool:
        """Stop (waiting for the run in progress) and start again.

        Without arguments the worker restarts with those of its last start.
        Blocks while the run in progress ends: cooperatively in a greenlet.

        Returns:
            What `start` returns.
        """
        self.stop(wait=True)
        if not args and not kwargs:
            args, kwargs = self._args, dict(self._kwargs)
        return self.start(*args, **kwargs)

    def is_active(self) -> bool:
        """True while the worker runs. Any thread; never blocks."""
        return self.is_alive()

    def is_started(self) -> bool:
        """True while the worker runs (atasker's name). Any thread; never blocks."""
        return self.is_alive()

    def is_stopped(self) -> bool:
        """True when the worker does not run. Any thread; never blocks."""
        return not self.is_alive()

    # -- running the executor ------------------------------------------------------

    def _steps(self) -> Steps:
        return Steps(self._has_work, self._do_work, self._drop_leftovers)

    def _has_work(self) -> bool:
        """Hook: True while the greenlet has something to do."""
        return True  # back to back

    def _do_work(self) -> None:
        """Hook: do one thing (one run of the executor)."""
        self._execute(())

    def _drop_leftovers(self) -> None:
        """Hook: as the worker ends, account for work left outside the mailbox."""

    def _execute(self, leading: tuple[object, ...]) -> None:
        """Run the executor once as a task and wait for it (worker greenlet)."""
        host = self._actor.host  # set by start(), before the worker's greenlet runs
        assert host is not None
        kwargs = dict(self._kwargs)
        kwargs.setdefault('o', self.o)  # start(o=...) wins, as in atasker
        kwargs.update(_worker=self, _name=self.name)
        try:
            task = self._submit(host, leading, kwargs)
        except SupervisorNotRunning:
            # The supervisor stops (with stop_schedulers=False): so does the worker.
            if is_debug():
                logger.debug('worker %s: supervisor stopped, worker stops', self.name)
            self._not_run(leading)
            self.stop(wait=False)
            return
        ran_here = task.done()  # in this greenlet, without a yield to the hub
        if not ran_here:
            self._task = task
            try:
                task.wait()
            finally:
                self._task = None
        self._handle_outcome(task, leading)
        if ran_here and not self._actor.stopping and self._has_work():
            gevent.sleep(0)  # between runs, as a queued run would, so others get the hub

    def _handle_outcome(self, task: Run, leading: tuple[object, ...]) -> None:
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

    def _submit(self, host: ActorHost, leading: tuple[object, ...],
                kwargs: dict[str, object]) -> Run:
        if self._coroutine:
            return host.run_coroutine_executor(self.executor, leading + self._args, kwargs,
                                               self.loop, self._policy)
        else:
            tt = self.tt if self.tt is not None else host.default_tt
            target = type(self).run if tt == TT_MP and self._func is None else self.executor
            if tt == TT_MP:
                kwargs.pop('_worker')  # a worker does not travel to another process
                if 'o' not in self._kwargs:
                    kwargs.pop('o')  # nor its object, unless start() was given one
            task = host.put_worker_task(self, target, leading + self._args, kwargs,
                                        self._actor.priority, tt, self._policy)
        return task

    def _not_run(self, leading: tuple[object, ...]) -> None:
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


"""The running supervisors of the process: stopped at exit, reset after a fork.

`RunningSupervisors` keeps every supervisor from its start to its stop and
every hub thread until it ended. Its exit hook stops the supervisors a
program forgot and waits for their hub threads; its fork hook drops, in the
child, what the parent ran (only the forking thread survives ``fork()``).
uWSGI forks its workers with the C ``fork()``, which skips Python's at-fork
hooks unless ``--py-call-osafterfork`` is given, so its ``postfork`` hook runs
the same handling.
"""

from __future__ import annotations

import atexit
import os
import weakref
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from . import _ids
from ._bridge import allocate_lock
from ._logging import logger
from ._run import HubRun

#: Seconds the exit hook gives a hub thread to end once its stop sequence is over.
EXIT_GRACE = 2.0


class Stoppable(Protocol):
    """What the exit hook needs of a supervisor."""

    @property
    def exit_timeout(self) -> float:
        """Seconds the exit hook waits for its queued work."""

    def stop(self, wait: bool | float = True, stop_schedulers: bool = True,
             cancel_tasks: bool = False) -> bool:
        """Stop it; see `TaskSupervisor.stop`."""


S = TypeVar('S', bound=Stoppable)


class RunningSupervisors(Generic[S]):
    """The supervisors that run and the hub threads that have not ended.

    Registers its exit and fork hooks when made (one instance per process).
    Every method may be called from any thread and never blocks, except the
    exit hook.
    """

    def __init__(self) -> None:
        # supervisor -> a weak reference to its after-fork method (a strong one
        # would keep the supervisor alive through the dictionary's value)
        self._supervisors: weakref.WeakKeyDictionary[S, weakref.WeakMethod[Callable[[], None]]]
        self._supervisors = weakref.WeakKeyDictionary()
        # The runs whose hub thread has not ended yet. A stop from inside the hub
        # thread (a callback, process_result, an actor) returns before that thread
        # has torn its hub down; an interpreter that exits meanwhile can crash, so
        # the exit hook waits for them too.
        self._hub_runs: set[HubRun] = set()
        self._lock = allocate_lock()
        atexit.register(self.stop_at_exit)
        os.register_at_fork(after_in_child=self.after_fork_in_child)
        _hook_uwsgi_fork(self.after_fork_in_child)

    def add(self, supervisor: S, after_fork: Callable[[], None]) -> None:
        """Keep *supervisor* (started); *after_fork* (a method of it) resets it in a child."""
        self._supervisors[supervisor] = weakref.WeakMethod(after_fork)

    def discard(self, supervisor: S) -> None:
        """Forget *supervisor* (stopped)."""
        self._supervisors.pop(supervisor, None)

    def supervisors(self) -> list[S]:
        """The running supervisors, oldest first."""
        return list(self._supervisors)

    def hub_thread(self, run: HubRun, started: bool) -> None:
        """The hub thread of *run* started (wait for it at exit) or ends.

        Called in that thread.
        """
        with self._lock:
            if started:
                self._hub_runs.add(run)
            else:
                self._hub_runs.discard(run)

    def stop_at_exit(self) -> None:
        """Stop every supervisor still running, then let finished hub threads end.

        The atexit hook; blocks up to each supervisor's ``exit_timeout`` and
        `EXIT_GRACE` per hub thread.
        """
        for supervisor in self.supervisors():
            try:
                supervisor.stop(wait=supervisor.exit_timeout)
            except Exception:
                logger.exception('stopping %r at exit failed', supervisor)
        with self._lock:
            runs = list(self._hub_runs)
        for run in runs:
            # Only a hub with nothing left to run: one that still runs a task
            # stopped without waiting for it, and is left to end after it.
            if run.finished and not run.exited.wait(EXIT_GRACE):
                logger.debug('a supervisor hub thread was still ending at exit')

    def after_fork_in_child(self) -> None:
        """In a child just forked: forget the parent's hub threads, reset its supervisors."""
        self._lock = allocate_lock()  # another thread may have held it at the fork
        self._hub_runs.clear()  # their threads are the parent's
        entries = list(self._supervisors.items())
        self._supervisors.clear()
        for supervisor, after_fork in entries:
            method = after_fork()
            if method is None:
                continue
            try:
                method()
            except Exception:
                logger.exception('%r: cleaning up after a fork failed', supervisor)


def _hook_uwsgi_fork(after_fork: Callable[[], None]) -> None:
    """Inside uWSGI, run *after_fork* from its post-fork hook too.

    uWSGI forks its workers with the C ``fork()``, which skips Python's
    at-fork hooks unless ``--py-call-osafterfork`` is given; its
    ``postfork`` hook always runs in a new worker. Running both is harmless:
    the second finds no supervisor left to reset.
    """
    try:
        from uwsgidecorators import postfork  # importable only inside uWSGI
    except ImportError:
        return

    def after_uwsgi_fork() -> None:
        _ids.redraw()
        after_fork()

    postfork(after_uwsgi_fork)

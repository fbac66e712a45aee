"""A supervisor's life cycle: start, the hub thread, the mailbox loop, stop.

`Lifecycle` owns the supervisor's state (stopped, starting, running,
stopping) and its current `HubRun`. In embedded mode the run lives in the
caller's hub; in threaded mode in a daemon OS thread of its own, whose hub
is destroyed when the run ends. One greenlet in that hub, the mailbox,
takes the messages posted to the run's inbox in order; it alone changes the
accounting. The steps of the stop are `gatasker._stop.StopSequence`'s.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any

import gevent

from ._aloops import Named
from ._bridge import (
    Inbox,
    Latch,
    allocate_lock,
    in_main_thread,
    real_thread_id,
    start_real_thread,
    threading_is_patched,
)
from ._constants import check_seconds
from ._errors import SupervisorNotRunning
from ._fork import EXIT_GRACE
from ._inspect import InspectServer, parse_address
from ._logging import logger
from ._process_child import PREPARING_ENV
from ._process_pool import check_not_preparing
from ._run import HubRun
from ._stop import StopSequence, remaining
from ._uwsgi import check_start_is_fork_safe
from ._watchdog import HubWatchdog

STOPPED, STARTING, RUNNING, STOPPING = 'stopped', 'starting', 'running', 'stopping'


def default_mode() -> str:
    """'embedded' in a monkey-patched process's main thread, else 'threaded'."""
    # Another OS thread's hub runs only while that thread waits in gevent.
    return 'embedded' if threading_is_patched() and in_main_thread() else 'threaded'


class _Launch:
    """Hands a threaded run (or why it could not start) from its new hub thread to start()."""

    def __init__(self) -> None:
        self.ready = Latch()
        self.run: HubRun | None = None
        self.error: BaseException | None = None


class Lifecycle:
    """The state and the runs of one supervisor.

    Args:
        supervisor: what names the hub thread and the log lines.
        open_tiers: starts a new run's tiers, in its hub.
        accept: tells the engine which run takes new tasks (None: none), under
            the state lock, so a task is either queued before a stop begins
            or refused.
        complete_late: completes what ended after the mailbox ended.
        stop_sequence: the steps of a stop.
        started: called after each start, in the caller's thread.
        stopped: called at the end of each stop, in the caller's thread.
        hub_thread: called with the run in a threaded run's hub thread when it
            starts (True) and ends (False).

    Any thread; `start`, `stop` and `running_run` may block.
    """

    def __init__(self, supervisor: Named, open_tiers: Callable[[HubRun], None],
                 accept: Callable[[HubRun | None], None],
                 complete_late: Callable[[HubRun], None], stop_sequence: StopSequence,
                 started: Callable[[], None], stopped: Callable[[], None],
                 hub_thread: Callable[[HubRun, bool], None]) -> None:
        self._supervisor = supervisor
        self._open_tiers = open_tiers
        self._accept = accept
        self._complete_late = complete_late
        self._stop_sequence = stop_sequence
        self._started = started
        self._stopped = stopped
        self._hub_thread_hook = hub_thread
        self.state = STOPPED
        self.lock = allocate_lock()  # guards state, run and the run's watchdog and inspect
        self.run: HubRun | None = None
        self._starting = Latch()  # set when the latest start() finished
        self._starting.set()
        self._ever_started = False
        #: Started on first use (the default supervisor).
        self.autostart = False
        #: It ran in the parent of this forked process: its first use starts it afresh.
        self.restart_on_use = False
        self._watch_threshold: float | None = None

    @property
    def mode(self) -> str | None:
        """'embedded' or 'threaded' while running, else None."""
        run = self.run
        return run.mode if run is not None and self.state != STOPPED else None

    def live_run(self) -> HubRun | None:
        """The current run, None when stopped."""
        return self.run if self.state != STOPPED else None

    # -- start ---------------------------------------------------------------------

    def start(self, mode: str | None) -> bool:
        """See `TaskSupervisor.start`."""
        if mode is None:
            mode = default_mode()
        elif mode not in ('embedded', 'threaded'):
            raise ValueError(f"mode must be 'embedded' or 'threaded', got {mode!r}")
        # A spawned worker process importing an unguarded main script: fail
        # its start (and so every task sent to it) instead of running the app.
        check_not_preparing('start a supervisor')
        check_start_is_fork_safe()  # the uWSGI master: its C fork would hang the workers
        with self.lock:
            if self.state != STOPPED:
                return False
            self.state = STARTING
            self._ever_started = True
            self.restart_on_use = False
            self._starting = Latch()
        try:
            self._start_run(mode)
        except BaseException:
            with self.lock:
                self.state = STOPPED
            raise
        finally:
            self._starting.set()
        return True

    def _start_run(self, mode: str) -> None:
        if mode == 'embedded':
            run = self._open_run(mode)
            gevent.spawn(self._mailbox, run)
        else:
            launch = _Launch()
            start_real_thread(functools.partial(self._hub_thread, mode, launch),
                              f'supervisor_{self._supervisor.id}_hub')
            launch.ready.wait()
            if launch.run is None:
                assert launch.error is not None
                raise launch.error
            run = launch.run
        with self.lock:
            self.run = run
            self.state = RUNNING
            self._accept(run)
        self._restart_watchdog(run)
        self._started()
        logger.debug('supervisor %s started (%s)', self._supervisor.id, mode)

    def _open_run(self, mode: str) -> HubRun:
        """A new run in the calling thread's hub, its tiers started."""
        run = HubRun(mode, gevent.get_hub(), real_thread_id(), Inbox())
        self._open_tiers(run)
        return run

    def _hub_thread(self, mode: str, launch: _Launch) -> None:
        try:
            run = self._open_run(mode)
        except BaseException as exc:
            launch.error = exc
            launch.ready.set()
            return
        self._hub_thread_hook(run, True)
        launch.run = run
        launch.ready.set()
        try:
            self._mailbox(run)
            run.hub.join(timeout=1.0)  # let pool threads finish exiting
            run.hub.destroy(destroy_loop=True)
        finally:
            run.exited.set()
            self._hub_thread_hook(run, False)

    def _mailbox(self, run: HubRun) -> None:
        inbox = run.inbox
        take = inbox.take
        while not run.finished:
            items = take()
            while items:
                handler, args = items.popleft()
                try:
                    handler(*args)
                except Exception:
                    logger.exception('supervisor %s: handling %r failed',
                                     self._supervisor.id, handler)
                # parked in take() next: keep no finished task (or its result) alive
                del handler, args
        inbox.close()
        self._complete_late(run)
        if run.mode == 'embedded':
            run.exited.set()

    # -- use ---------------------------------------------------------------------

    def running_run(self) -> HubRun:
        """The current run if the supervisor accepts work; starts it first when
        it starts on use. Raises SupervisorNotRunning otherwise."""
        if self.state != RUNNING:
            if self.restart_on_use or (self.autostart and not self._ever_started):
                self.start(None)  # threaded when called from another OS thread
            if self.state == STARTING:
                self._starting.wait()
            if self.state != RUNNING:
                raise SupervisorNotRunning(f'supervisor {self._supervisor.id!r} is not running')
        run = self.run
        assert run is not None
        return run

    def post_if_running(self, handler: Callable[..., object], *args: object) -> None:
        """Post ``handler(run, *args)`` to the running run's mailbox; nothing when
        not running. Any thread; never blocks."""
        with self.lock:
            if self.state == RUNNING and self.run is not None:
                self.run.inbox.put((handler, (self.run, *args)))

    def watch(self, threshold: float | None) -> None:
        """See `TaskSupervisor.watch_hub`."""
        threshold = check_seconds(threshold, 'threshold', positive=True, finite=True)
        with self.lock:
            self._watch_threshold = threshold
            run = self.run if self.state == RUNNING else None
        if run is not None:
            self._restart_watchdog(run)

    def _restart_watchdog(self, run: HubRun, stopping: bool = False) -> None:
        with self.lock:
            old, run.watchdog = run.watchdog, None
            threshold = None if stopping else self._watch_threshold
            if threshold is not None:
                run.watchdog = HubWatchdog(run.hub, run.thread_id, threshold,
                                           str(self._supervisor.id))
                run.watchdog.start()
        if old is not None:
            old.close()
            if stopping:
                run.watchdog = old  # its figures stay readable after the stop

    def serve_inspect(self, address: str | tuple[str, int] | os.PathLike[str],
                      snapshot: Callable[[], dict[str, Any]]
                      ) -> str | tuple[str, int] | None:
        """See `TaskSupervisor.serve_inspect`."""
        parse_address(address)
        if os.environ.get(PREPARING_ENV):
            return None
        run = self.running_run()
        server = InspectServer(address, snapshot, str(self._supervisor.id))
        with self.lock:
            old, run.inspect = run.inspect, server
        if old is not None:
            old.close()
        return server.address

    def _close_inspect(self, run: HubRun) -> None:
        with self.lock:
            server, run.inspect = run.inspect, None
        if server is not None:
            server.close()

    # -- stop ----------------------------------------------------------------------

    def block(self) -> None:
        """See `TaskSupervisor.block`."""
        run = self.run
        if run is not None and self.state != STOPPED:
            run.stopped.wait()

    def stop(self, wait: bool | float, stop_schedulers: bool, cancel_tasks: bool) -> bool:
        """See `TaskSupervisor.stop`."""
        # Not _constants.check_wait: that raises TypeError for a non-number,
        # stop() has always raised ValueError.
        if isinstance(wait, bool):
            deadline = None if wait else 0.0
        elif isinstance(wait, (int, float)) and wait >= 0:
            deadline = None if wait == float('inf') else float(wait)
        else:
            raise ValueError(f'wait must be True, False or a non-negative number, got {wait!r}')
        with self.lock:
            if self.state != RUNNING:
                return False
            self.state = STOPPING
            self._accept(None)
            run = self.run
        assert run is not None
        if deadline is not None:
            deadline += time.monotonic()
        # stop() from inside: the stop sequence must not wait for the caller.
        self._stop_sequence.note_callers(run)
        run.cancel_running = cancel_tasks
        done = Latch()
        run.inbox.put((gevent.spawn, (self._stop_sequence.run, run, deadline, stop_schedulers,
                                      cancel_tasks or wait is False,
                                      functools.partial(self._stop_finished, run, done))))
        done.wait()
        self._restart_watchdog(run, stopping=True)
        self._close_inspect(run)
        if run.finished and not run.ignored and not (
                run.mode == 'threaded' and run.inbox.in_owner_thread()):
            # Nothing runs any more: let the hub thread end before returning,
            # also when the wait ran out, because an interpreter that exits
            # while another thread tears down its hub can crash. (When tasks
            # still run, the thread ends after them and stop() does not wait;
            # a greenlet of the hub thread itself cannot wait for it to end.)
            left = remaining(deadline)
            run.exited.wait(EXIT_GRACE if left is None else max(left, EXIT_GRACE))
        self._stopped()
        logger.debug('supervisor %s stopped', self._supervisor.id)
        return True

    def _stop_finished(self, run: HubRun, done: Latch) -> None:
        with self.lock:
            self.state = STOPPED
        run.stopped.set()
        done.set()

    # -- fork ------------------------------------------------------------------------

    def after_fork_in_child(self) -> None:
        """In a child just forked: drop the parent's run; a running supervisor
        starts afresh on first use. Only the forking thread runs here."""
        self.lock = allocate_lock()  # another thread may have held it at the fork
        self.restart_on_use = self.state in (STARTING, RUNNING)
        self.state = STOPPED
        self._starting = Latch()
        self._starting.set()
        run, self.run = self.run, None
        if run is not None:
            run.finished = True
            run.tiers.clear()  # their threads, greenlets and processes are the parent's
            for admission in run.admissions.values():
                admission.drain()
            run.inbox.abandon()

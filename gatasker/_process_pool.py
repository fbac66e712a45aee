"""gatasker's built-in process pool: gevent-cooperative, in both runtime modes.

Not ``multiprocessing.Pool`` or ``ProcessPoolExecutor``: under ``patch_all()``
their feeder threads are greenlets doing blocking pipe writes, which hang once
a pipe fills. Not ``gipc``: it forks, and a threaded-mode supervisor always
runs threads, whose locks held at the fork stay locked in the child. So each
worker process starts as `gatasker._process_start` says and talks to the pool
over a socket pair whose end here is a gevent socket (`gatasker._process_channel`).
Everything here runs in the supervisor's hub, in its greenlets.
"""

from __future__ import annotations

import functools
import os
import weakref
from collections.abc import Callable, Iterable

import gevent

from ._constants import check_count
from ._errors import WorkerProcessDied
from ._logging import logger
from ._process_backend import Finish
from ._process_queue import WaitingTasks
from ._process_start import (
    START_METHODS,
    check_not_preparing,
    check_preload,
    dump_call,
    dump_initializer,
    fork_process,
    main_is_guarded,
    preparation_data,
    spawn_process,
)
from ._process_worker import EXIT_TIMEOUT, RemoteTraceback, WarmUp, Worker, describe
from ._task import Task

__all__ = ['EXIT_TIMEOUT', 'ProcessPool', 'RemoteTraceback', 'check_not_preparing', 'dump_call']


def _check_options(processes: int | None, initializer: Callable[..., object] | None,
                   maxtasksperchild: int | None, start_method: str | None) -> int:
    """The pool's options, checked (ValueError/TypeError); returns the process count."""
    if start_method is not None and (start_method not in START_METHODS or (
            start_method == 'fork' and not hasattr(os, 'fork'))):
        raise ValueError(f'start_method must be None or one of {START_METHODS} (fork '
                         f'where the platform has it), got {start_method!r}')
    if processes is None:
        processes = os.cpu_count() or 1
    check_count(processes, 'processes')
    if processes < 1:
        raise ValueError(f'processes must be at least 1, got {processes}')
    if initializer is not None and not callable(initializer):
        raise TypeError(f'initializer must be callable or None, got {initializer!r}')
    if maxtasksperchild is not None:
        check_count(maxtasksperchild, 'maxtasksperchild')
        if maxtasksperchild < 1:
            raise ValueError(f'maxtasksperchild must be at least 1, got {maxtasksperchild}')
    return processes


class ProcessPool:
    """gatasker's built-in pool of worker processes, for the TT_MP tier.

    Made by ``supervisor.create_mp_pool(processes=...)`` (or by default).
    A pool made by ``TaskSupervisor.create_mp_pool`` or
    ``TaskSupervisor.set_mp_pool`` starts its processes in the background as
    soon as its supervisor runs, so the first task does not wait for one; the
    default pool starts them when tasks need them. Dead processes are
    replaced. One task runs in a process at a time. Tasks wait in the tier's
    queue, most important first, and the pool runs them in the order the
    tier lets them through; a CRITICAL task goes to the next free process
    ahead of all others.

    ``processes``: how many worker processes (default: the CPU count).
    ``initializer(*initargs)`` runs in each worker process when it starts.
    ``maxtasksperchild``: a worker process exits and is replaced after that
    many tasks (None: never).
    ``preload``: names of modules every worker process imports as it starts,
    before it takes tasks (as ``multiprocessing.set_forkserver_preload``):
    the modules of your TT_MP targets, so that a first task does not wait for
    their import (10 ms and more) in a fresh interpreter. A module that fails
    to import is logged on the ``gatasker`` logger (once per pool) and the
    process serves on; a task that needs it fails then with the error.
    ``start_method``: ``'spawn'`` starts each worker process as a fresh
    interpreter (``posix_spawn``: cheap, and nothing of the parent's threads
    or hub is copied), which imports the main script as ``__mp_main__`` to
    find what it defines, as ``multiprocessing``'s spawn does: the part under
    ``if __name__ == '__main__':`` does not run there. ``'fork'`` forks the
    parent, as atasker's ``multiprocessing`` pool did on Linux: the worker
    has the parent's ``__main__`` without running the script again (targets
    defined before the process started are there). ``None`` (the default):
    ``'spawn'`` when the main script has an ``if __name__ == '__main__':``
    block (or there is no script file), ``'fork'`` for a script without one,
    whose whole body would run again in every spawned worker.

    Targets and arguments travel by pickle, as with ``multiprocessing``:
    use module-level functions.
    """

    def __init__(self, processes: int | None = None,
                 initializer: Callable[..., object] | None = None,
                 initargs: Iterable[object] = (),
                 maxtasksperchild: int | None = None, start_method: str | None = None,
                 preload: Iterable[str] = ()) -> None:
        self.processes = _check_options(processes, initializer, maxtasksperchild, start_method)
        #: The modules each worker process imports as it starts.
        self.preload = check_preload(preload)
        #: True for the default pool, whose size follows the tier's limits.
        self.follows_limits = False
        self.maxtasksperchild = maxtasksperchild
        self.initializer = initializer
        self.initargs = tuple(initargs)
        self.start_method = start_method
        #: Start every process as soon as the pool opens (create_mp_pool, set_mp_pool).
        self.prestart = False
        if start_method != 'fork':
            dump_initializer(initializer, self.initargs)  # TypeError now, not in each process
        self._finish: Finish | None = None
        self._workers: list[Worker] = []
        self._idle: list[Worker] = []
        self._waiting = WaitingTasks()
        self._retried: weakref.WeakSet[Task[object]] = weakref.WeakSet()
        # Waiting tasks whose soft time limit passed: soft-stopped once they start.
        self._soft_stop_due: weakref.WeakSet[Task[object]] = weakref.WeakSet()
        self._warm_up = WarmUp(lambda: self._workers)
        self.closing = False
        self.closing_kill = False
        #: Worker processes started in place of one that ended (any thread may read).
        self.replaced = 0
        self._on_closed: Callable[[], None] | None = None
        self._preload_failed: set[str] = set()  # logged already
        self._filling = False
        self._starting = 0  # processes being forked (the fork yields)

    def __repr__(self) -> str:
        return f'<gatasker.ProcessPool processes={self.processes} running={len(self._workers)}>'

    @property
    def pids(self) -> list[int]:
        """The process ids of the worker processes running now."""
        return [worker.pid for worker in list(self._workers)]

    # -- in the supervisor's hub -------------------------------------------------------

    def open(self, finish: Finish) -> None:
        """Start taking tasks; *finish(task, ok, value)* reports each end."""
        self._finish = finish
        self.closing = self.closing_kill = False
        for worker in self._workers:  # left from a run whose hub is gone
            worker.kill()
        self._workers, self._idle, self._waiting = [], [], WaitingTasks()
        self._filling = False
        if self.prestart:
            self._start_filling()

    def _start_filling(self) -> None:
        # In the background: open() and resize() run in the supervisor's greenlet.
        if not self._filling:
            self._filling = True
            gevent.spawn(self._fill)

    def _fill(self) -> None:
        """Start processes up to the pool's size, one after the other: each
        takes tasks at once, and the next starts when it is up, so a big pool
        coming up never takes every CPU from the application."""
        try:
            while self._room():
                try:
                    worker = self._start_worker()
                except Exception:
                    logger.exception('could not start a worker process')
                    return
                self._park(worker)
                self._pump()
                worker.settled.wait()
                if not worker.ready:
                    return  # it could not start: the next task reports why
        finally:
            self._filling = False

    def forget_parent(self) -> None:
        """In a forked child: drop the parent's worker processes; new ones start here."""
        workers, self._workers, self._idle = self._workers, [], []
        self._waiting = WaitingTasks()
        for worker in workers:
            try:
                worker.forget_parent()
            except Exception:
                logger.exception('%r: letting go of it after a fork failed', worker)

    def submit(self, task: Task[object]) -> None:
        """Run *task* on the next free process: the tier's admission let it
        through, so it waits here only while processes start (or are busy
        with CRITICAL tasks admitted beyond the limits)."""
        self._waiting.push(task)
        self._pump()

    def _pump(self) -> None:
        waiting = self._waiting
        while waiting:
            if self._idle:
                worker = self._take_idle()
            elif self._room():
                try:
                    worker = self._start_worker()
                except Exception as exc:
                    if waiting:
                        self._report(waiting.pop(), False, exc)
                    continue
                if not waiting or self.closing:  # emptied while the process started
                    self._park(worker)
                    return
            else:
                return
            task = waiting.pop()
            soft_stop_due = task in self._soft_stop_due
            if soft_stop_due:
                self._soft_stop_due.discard(task)
            worker.run(task, soft_stop_due)

    def _take_idle(self) -> Worker:
        # A process that is up, if there is one: one still starting would make
        # the task wait for it while another could run it now.
        idle = self._idle
        for i in range(len(idle) - 1, -1, -1):
            if idle[i].ready:
                return idle.pop(i)
        return idle.pop()

    def _room(self) -> bool:
        """True when one more process may start (those starting count)."""
        return len(self._workers) + self._starting < self.processes and not self.closing

    def _park(self, worker: Worker) -> None:
        """An unused new process: idle, or asked to exit if the pool closes."""
        if self.closing:
            worker.close()
        else:
            self._idle.append(worker)

    def _start_worker(self) -> Worker:
        # Made anew for each process: sys.path may have changed meanwhile.
        method = self.start_method or ('spawn' if main_is_guarded() else 'fork')
        launch: Callable[[int], int]
        if method == 'fork':
            preparation = None
            launch = functools.partial(fork_process, max_tasks=self.maxtasksperchild,
                                       initializer=self.initializer, initargs=self.initargs,
                                       preload=self.preload)
        else:
            preparation = preparation_data(self.initializer, self.initargs, self.preload)
            launch = functools.partial(spawn_process, max_tasks=self.maxtasksperchild or 0)
        self._starting += 1
        try:
            worker = Worker(self, launch, preparation)  # may yield: a fork waits for its thread
        finally:
            self._starting -= 1
        self._workers.append(worker)
        self._warm_up.started(worker)
        return worker

    def preload_failed(self, worker: Worker, failed: list[tuple[str, str]]) -> None:
        """*worker* could not import these ``preload`` modules: log each once per pool."""
        for name, tb in failed:
            if name not in self._preload_failed:
                self._preload_failed.add(name)
                logger.error('%r could not import the preload module %r; it serves on, and a '
                             'task that needs the module fails with the error:\n%s',
                             worker, name, tb)

    def _report(self, task: Task[object], ok: bool, value: object) -> None:
        assert self._finish is not None
        self._finish(task, ok, value)

    def retry(self, task: Task[object]) -> bool:
        """Queue *task* first once more, unless it was retried already."""
        if task in self._retried:
            return False
        self._retried.add(task)
        self._waiting.push_first(task)
        return True

    def _fail_waiting(self) -> None:
        for task in self._waiting.drain():
            self._report(task, False, WorkerProcessDied(f'{task!r} did not run: the pool closed'))

    def task_ended(self, worker: Worker, task: Task[object], ok: bool, value: object,
                   alive: bool) -> None:
        """Report *task*'s end and give its process the next task (reader greenlet)."""
        self._report(task, ok, value)
        self._warm_up.task_ended(task, worker)
        if not alive or worker not in self._workers:
            return  # the worker is gone (or going); worker_gone() handles it
        if self.maxtasksperchild is not None and worker.done >= self.maxtasksperchild:
            return  # the process exits by itself; worker_gone() replaces it
        if len(self._workers) > self.processes:
            self._workers.remove(worker)  # the pool shrank
            worker.close()
        elif self.closing:
            worker.close()
        else:
            self._idle.append(worker)
            self._pump()

    def worker_gone(self, worker: Worker, code: int | None) -> None:
        """Forget *worker*, whose process ended, and start one in its place."""
        if worker in self._idle:
            self._idle.remove(worker)
        if worker in self._workers:
            self._workers.remove(worker)
        if not self.closing:
            if worker.ready and code not in (0, None):
                logger.warning('%r ended (%s); starting a new one', worker, describe(code))
            if self._room() and (worker.ready or self._waiting):
                # Keep the pool at its size; a process that could not even start
                # is replaced only when work waits, so a broken setup cannot loop.
                try:
                    self._park(self._start_worker())
                    self.replaced += 1
                except Exception:
                    logger.exception('could not start a worker process')
            self._pump()
        else:
            if not self._workers:
                self._fail_waiting()
            if not self._workers and self._on_closed is not None:
                self._on_closed()

    def interrupt(self, task: Task[object], exc: BaseException, hard: bool) -> bool:
        """Stop *task*: hard, it fails with *exc* now and its worker process is
        killed (and replaced); soft, SIGUSR1 raises a TimeoutError in the task's
        code in its process. False if the task is not here."""
        if self._waiting.contains(task):
            if not hard:  # not running yet: the stop waits for its start
                self._soft_stop_due.add(task)
                return False
            self._waiting.remove(task)
            self._report(task, False, exc)
            return True
        for worker in self._workers:
            if worker.task is task:
                if hard:
                    worker.task = None  # its death is then no task's end
                    worker.kill()
                    self._report(task, False, exc)
                elif worker.started:
                    worker.soft_stop()
                else:  # the reader does it once the process took the task
                    worker.soft_stop_due = True
                return True
        return False

    def resize(self, processes: int) -> None:
        """Change the number of worker processes; busy ones are never stopped."""
        self.processes = processes
        while len(self._workers) > processes and self._idle:
            worker = self._idle.pop()
            self._workers.remove(worker)
            worker.close()
        self._pump()
        if self.prestart and self._finish is not None:
            self._start_filling()

    def close(self, kill: bool = False, on_closed: Callable[[], None] | None = None) -> None:
        """Stop the worker processes: idle ones now, busy ones after their task
        (or now, killing them, with *kill*). Tasks still waiting fail."""
        self.closing = True
        self.closing_kill = self.closing_kill or kill
        self._on_closed = on_closed
        self._fail_waiting()
        for worker in self._idle:
            worker.close()
        self._idle = []
        if kill:
            for worker in list(self._workers):
                worker.kill()
        if not self._workers and on_closed is not None:
            on_closed()

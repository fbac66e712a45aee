"""One worker process of the built-in pool, and the greenlet that reads from it.

Everything here runs in the supervisor's hub, in its greenlets.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from typing import Protocol

import gevent
import gevent.select
import gevent.socket

from . import _tracing
from ._bridge import Latch
from ._errors import WorkerProcessDied
from ._logging import logger
from ._process_channel import Channel
from ._process_child import WARM_UP
from ._process_start import check_not_preparing, dump_call
from ._task import Task

_UNKNOWN = -(1 << 16)  # an exit code nobody can know any more

#: Seconds a closing pool gives a worker process to exit before killing it.
EXIT_TIMEOUT = 5.0


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process (its ``__cause__``)."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return '\n"""\n' + self.tb.rstrip() + '\n"""'


class WorkerOwner(Protocol):
    """What a worker process reports to its pool (in the supervisor's hub)."""

    @property
    def closing_kill(self) -> bool:
        """True once the pool closes by killing its busy processes."""

    def retry(self, task: Task[object]) -> bool:
        """Queue *task*, which never ran, once more; False if it was retried already."""

    def task_ended(self, worker: Worker, task: Task[object], ok: bool, value: object,
                   alive: bool) -> None:
        """*task* ended on *worker* with *ok*/*value*; *alive*: the process is still up."""

    def worker_gone(self, worker: Worker, code: int | None) -> None:
        """*worker*'s process ended with exit *code* (None: unknown)."""

    def preload_failed(self, worker: Worker, failed: list[tuple[str, str]]) -> None:
        """*worker* could not import the ``preload`` modules *failed* (name, traceback)."""


class Worker:
    """One worker process: starts it, sends it tasks, reads its outcomes, reaps it."""

    __slots__ = (
        '_channel',
        '_owner',
        '_pidfd',
        'code',
        'done',
        'pid',
        'reader',
        'ready',
        'settled',
        'soft_stop_due',
        'started',
        'task',
    )

    def __init__(self, owner: WorkerOwner, launch: Callable[[int], int],
                 preparation: bytes | None) -> None:
        """Start the process: *launch(fd)* starts it on its end of a new socket pair
        and returns its pid (it may yield); *preparation* is sent first, if any.
        Any greenlet of the supervisor's hub."""
        self._owner = owner
        self.task: Task[object] | None = None
        self.ready = False
        self.settled = Latch()  # set once the process is ready, or gone
        self.done = 0  # tasks this process ran
        self.started = False  # the process took self.task
        #: Its task's soft time limit passed before the process took it.
        self.soft_stop_due = False
        check_not_preparing('start worker processes')
        parent, child = gevent.socket.socketpair()
        try:
            self.pid = launch(child.fileno())
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        self._channel = Channel(parent)
        self.code: int | None = None
        self._pidfd: int | None = None
        if hasattr(os, 'pidfd_open'):
            try:
                self._pidfd = os.pidfd_open(self.pid)
            except OSError:
                self._pidfd = None
        self.reader = gevent.spawn(self._read)
        if preparation is not None:
            self._channel.send(preparation)

    def __repr__(self) -> str:
        return f'<worker process {self.pid}>'

    # -- the reader greenlet ------------------------------------------------------

    def _took_task(self) -> None:
        """The process said it took its task (an empty frame)."""
        self.started = True
        if self.soft_stop_due and self.task is not None:
            self.soft_stop()  # its soft limit passed before it got there

    def _read(self) -> None:
        owner = self._owner
        error = None
        try:
            frames = self._channel.frames()
            frame = next(frames, None)
            if frame is not None:
                status, value = pickle.loads(frame)
                if status == 'ready':
                    self.ready = True
                    self.settled.set()
                    if value:
                        owner.preload_failed(self, value)
                    for frame in frames:
                        if not frame:
                            self._took_task()
                            continue
                        task = self.task
                        if task is not None:
                            ok, value = _load_outcome(frame)
                            del frame
                            self.done += 1
                            self.task = None
                            owner.task_ended(self, task, ok, value, alive=True)
                            # this greenlet waits for the next frame now: it
                            # must not keep the finished task or its outcome
                            task = value = None
                else:
                    error = value
        except Exception:
            # Whatever went wrong, the worker is dropped and its task fails:
            # a reader that ended without _died() would freeze that task.
            logger.exception('%r: reading from the process failed', self)
            self.kill()
        finally:
            self._died(error)

    def _died(self, error: str | None) -> None:
        self.settled.set()
        self._channel.close()
        code = self._reap()
        task, self.task = self.task, None
        pool = self._owner
        if task is not None and error is None and not self.started and not pool.closing_kill \
                and pool.retry(task):
            task = None  # the process died before it took the task, which never ran: once more
        if task is not None:
            if error is not None:
                message = (f'worker process {self.pid} could not start, so {task!r} did not '
                           f'run:\n{error}')
            elif pool.closing_kill:
                message = (f'{task!r} was stopped: the supervisor stopped and its wait ran out '
                           f'(worker process {self.pid} was killed)')
            else:
                message = (f'worker process {self.pid} died ({describe(code)}) '
                           f'while running {task!r}')
            pool.task_ended(self, task, False, WorkerProcessDied(message), alive=False)
        elif error is not None:
            logger.error('worker process %s could not start:\n%s', self.pid, error)
        pool.worker_gone(self, code)

    def _reap(self) -> int | None:
        """Wait for the process to exit (its stream ended), killing it if it does
        not; return its exit code. Bounded: at most EXIT_TIMEOUT + 1 s."""
        if self._wait_exit(EXIT_TIMEOUT) is None:
            self.kill()
            self._wait_exit(1.0)
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        return self.code

    def _wait_exit(self, timeout: float) -> int | None:
        """The exit code once the process exited, or None after *timeout* seconds."""
        if self._pidfd is not None:
            # a pidfd turns readable when the process exits: an event, no polling
            if not gevent.select.select([self._pidfd], [], [], timeout)[0]:
                return self._poll()
            # It exited. Under patch_all() gevent's SIGCHLD handler reaps it and
            # hands the status to the patched waitpid once the hub has run: a
            # few short turns collect it.
            timeout = 1.0
        for _ in range(int(timeout / 0.01)):  # without a pidfd: a short, bounded poll
            if self._poll() is not None:
                break
            gevent.sleep(0.01)
        return self._poll()

    def _poll(self) -> int | None:
        """The exit code once the process ended (and was reaped here), else None."""
        if self.code is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: the code is lost
                self.code = _UNKNOWN
            else:
                if pid:
                    self.code = os.waitstatus_to_exitcode(status)
        return self.code

    # -- used by the pool ---------------------------------------------------------

    def run(self, task: Task[object], soft_stop_due: bool = False) -> None:
        """Send *task* to the process. Pickles it here, one task at a time as
        processes free up, so a burst of big arguments never holds the hub
        for long in one go."""
        self.task = task
        self.started = False
        self.soft_stop_due = soft_stop_due
        try:
            target = task.target
            tracer = _tracing.tracer
            if tracer is not None:  # it leaves the target of a task it does not trace alone
                target = tracer.process_target(task, target)
            payload = dump_call(target, task.args, task.kwargs)
        except TypeError as exc:
            self.task = None
            # reported from a greenlet of its own: the caller may be the pump
            gevent.spawn(self._owner.task_ended, self, task, False, exc, True)
            return
        self._channel.send(payload)

    def forget_parent(self) -> None:
        """In a forked child: let go of the parent's process without touching it.

        It is neither killed nor reaped here, and the child closes its copy of
        the socket, so the process still ends when the parent lets it go.
        """
        self.code = _UNKNOWN  # so nothing here kills or waits for it
        self.task = None
        self.ready = False
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        self._channel.let_go()
        self.reader.kill(block=False)  # a reader that survived in this hub ends quietly

    def warm_up(self, modules: list[str]) -> None:
        """Have the process import *modules* (those of targets the pool ran), in
        turn with its tasks, so that its first task from one does not wait for
        the import. It answers nothing; a failing import is left for a task."""
        self._channel.send(WARM_UP + '\n'.join(modules).encode())

    def close(self) -> None:
        """Ask the process to exit (an empty frame); the reader then reaps it."""
        self._channel.send(b'')

    def soft_stop(self) -> None:
        """SIGUSR1: the process raises TimeoutError in the task it runs."""
        self._signal(signal.SIGUSR1)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, signum: int) -> None:
        if self.code is None:  # not reaped: the pid is still this process's
            try:
                os.kill(self.pid, signum)
            except OSError:
                pass


class WarmUp:
    """The modules of the targets a pool ran, imported by its other processes.

    A spawned process imports a target's module when it unpickles its first
    task from it (often 10 ms or more). Shortly after the first task from a
    module ended, the pool's other processes import it, and a process started
    later imports every such module at once, so that only the first task per
    module waits for the import, not the first task of each process. In the
    supervisor's hub.
    """

    __slots__ = ('_modules', '_workers')

    #: Seconds after the first task from a module ended until the others import
    #: it: at once, the imports would compete for the CPU with whoever takes that
    #: task's result right then (about 10 ms measured on it).
    DELAY = 0.1

    #: Modules never sent: the main script is there already (``__mp_main__``).
    SKIPPED = frozenset({'__main__', '__mp_main__', 'builtins'})

    def __init__(self, workers: Callable[[], list[Worker]]) -> None:
        self._workers = workers  # the pool's processes now
        self._modules: dict[str, None] = {}  # an ordered set

    def task_ended(self, task: Task[object], worker: Worker) -> None:
        """*task* ended in *worker*: its module is known to the pool from now on."""
        module = getattr(task.target, '__module__', None)
        if module in self._modules or not isinstance(module, str):
            return
        self._modules[module] = None
        if module not in self.SKIPPED:
            gevent.spawn_later(self.DELAY, self._others, module, worker)

    def _others(self, module: str, done: Worker) -> None:
        for worker in self._workers():
            if worker is not done:
                worker.warm_up([module])

    def started(self, worker: Worker) -> None:
        """*worker*'s process just started: it imports every module known so far."""
        modules = [name for name in self._modules if name not in self.SKIPPED]
        if modules:
            worker.warm_up(modules)


def describe(code: int | None) -> str:
    """How a process ended, for messages: its exit code or the signal that killed it."""
    if code is None or code == _UNKNOWN:
        return 'exit code unknown'
    if code < 0:
        try:
            return f'killed by {signal.Signals(-code).name}'
        except ValueError:
            return f'killed by signal {-code}'
    return f'exit code {code}'


def _load_outcome(frame: bytearray) -> tuple[bool, object]:
    try:
        ok, value, tb = pickle.loads(frame)
    except Exception as exc:
        return False, pickle.UnpicklingError(
            f'the result of a TT_MP task could not be unpickled: {type(exc).__name__}: {exc}')
    if not ok and tb and isinstance(value, BaseException):
        value.__cause__ = RemoteTraceback(tb)
    return ok, value


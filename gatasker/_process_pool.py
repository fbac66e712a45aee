"""gatasker's built-in process pool: gevent-cooperative, in both runtime modes.

Why not ``multiprocessing.Pool`` or ``ProcessPoolExecutor``: under
``patch_all()`` their feeder threads are greenlets doing blocking pipe
writes, and they hang once a pipe fills. Why not ``gipc``: it forks, and a
threaded-mode supervisor always forks from a process that runs threads
(its hub thread, thread-tier threads, aloops), where a lock another thread
held at the fork stays locked in the child for ever.

So each worker is a fresh interpreter started with ``os.posix_spawn`` (no
Python code runs between the clone and the ``exec``: safe with threads) running
:mod:`gatasker._process_child`, and talks to the pool over one end of a
socket pair. The pool's end is a gevent socket, read and written by
greenlets of the supervisor's hub: a 1 MiB argument or result never blocks
the hub, in either mode.

Everything here runs in the supervisor's hub, in its greenlets.
"""

from __future__ import annotations

import ast
import fcntl
import gc
import heapq
import itertools
import os
import pickle
import signal
import sys
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import gevent
import gevent.monkey
import gevent.select
import gevent.socket

from . import _process_child, _tracing
from ._admission import check_size
from ._bridge import Latch
from ._errors import WorkerProcessDied
from ._logging import logger
from ._task import Task

_HEADER = _process_child.HEADER
_CHILD_PATH = _process_child.__file__
_BOOT = "import sys, runpy; sys.argv.pop(0); runpy.run_path(sys.argv[0], run_name='__main__')"
_UNKNOWN = -(1 << 16)  # an exit code nobody can know any more

_SMALL = 64 * 1024  # frames up to this size are sent in one piece
_CHUNK = 256 * 1024  # how much the reader asks for at a time
#: A big frame is read in slices of this size, yielding to the hub between
#: them: while the process writes faster than the reader reads, the socket
#: stays readable and a gevent socket never yields by itself.
SLICE = 1024 * 1024


def _yield_to_hub() -> None:
    """Let every other greenlet of the hub run once (between slices of a big frame)."""
    gevent.sleep(0)

#: How a pool starts its worker processes (see ProcessPool).
START_METHODS = ('fork', 'spawn')

#: Seconds a closing pool gives a worker process to exit before killing it.
EXIT_TIMEOUT = 5.0


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process (its ``__cause__``)."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return '\n"""\n' + self.tb.rstrip() + '\n"""'


def _dumps(obj: Any, what: str) -> bytes:
    """Pickle *obj*; TypeError saying that *what* must be picklable if it cannot be."""
    try:
        return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise TypeError(f'{what}: {type(exc).__name__}: {exc}') from exc


def dump_call(target: Callable[..., Any], args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> bytes:
    """Pickle a call for a worker process; TypeError if it cannot travel there."""
    return _dumps((target, args, kwargs), 'a TT_MP task needs a picklable target and '
                  'arguments (a module-level function and plain data)')


def _preparation_data(initializer: Callable[..., Any] | None,
                      initargs: tuple[Any, ...]) -> bytes:
    import multiprocessing.spawn
    data = multiprocessing.spawn.get_preparation_data('gatasker-worker')
    main_path = data.get('init_main_from_path')
    if main_path is not None and not os.path.isfile(main_path):
        del data['init_main_from_path']  # '<stdin>', '-c' ...: nothing to import
    data['authkey'] = bytes(data['authkey'])
    # Pickled apart: it can be unpickled only once sys.path is the parent's.
    data['gatasker_initializer'] = _dump_initializer(initializer, initargs)
    return pickle.dumps(data, pickle.HIGHEST_PROTOCOL)


def _dump_initializer(initializer: Callable[..., Any] | None, initargs: tuple[Any, ...]) -> bytes:
    return _dumps((initializer, initargs), 'the pool initializer and initargs must be picklable')


class _Worker:
    """One worker process and the greenlets that talk to it."""

    __slots__ = (
        '_fd',
        '_pidfd',
        '_pool',
        'code',
        'done',
        'pid',
        'reader',
        'ready',
        'settled',
        'sock',
        'started',
        'task',
    )

    def __init__(self, pool: ProcessPool, preparation: bytes | None) -> None:
        self._pool = pool
        self.task: Task[Any] | None = None
        self.ready = False
        self.settled = Latch()  # set once the process is ready, or gone
        self.done = 0  # tasks this process ran
        self.started = False  # the process took self.task
        check_not_preparing('start worker processes')
        parent, child = gevent.socket.socketpair()
        try:
            if preparation is None:
                self.pid: int = _fork(child.fileno(), pool)
            else:
                self.pid = _spawn(child.fileno(), pool.maxtasksperchild or 0)
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        self.sock = parent
        self._fd = parent.fileno()
        self.code: int | None = None
        self._pidfd: int | None = None
        if hasattr(os, 'pidfd_open'):
            try:
                self._pidfd = os.pidfd_open(self.pid)
            except OSError:
                self._pidfd = None
        self.reader = gevent.spawn(self._read)
        if preparation is not None:
            self._send(preparation)

    def __repr__(self) -> str:
        return f'<worker process {self.pid}>'

    # -- the socket -------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        """Send one frame; try at once without blocking, finish in a greenlet if the
        socket is full. Any greenlet; never blocks."""
        header = _HEADER.pack(len(data))
        whole = len(data) <= _SMALL
        frame = header + data if whole else header
        try:
            sent = os.write(self._fd, frame)
        except BlockingIOError:
            sent = 0
        except OSError:
            return  # the process is gone: the reader sees the end of the stream
        if sent < len(frame) or not whole:
            rest = [memoryview(frame)[sent:]]
            if not whole:
                rest.append(memoryview(data))
            gevent.spawn(self._send_rest, rest)

    def _send_rest(self, parts: list[memoryview]) -> None:
        try:
            for part in parts:
                self.sock.sendall(part)
        except OSError:
            pass  # the process is gone: the reader sees the end of the stream

    def _frames(self) -> Iterator[bytearray]:
        """The frames the process sends, read in large chunks; the empty
        STARTED frames only set :attr:`started`."""
        buf = bytearray()
        recv = self.sock.recv

        def fill(size: int) -> bool:
            # Read until *buf* holds *size* bytes; False at the end of the stream.
            while len(buf) < size:
                chunk = recv(_CHUNK)
                if not chunk:
                    return False
                buf.extend(chunk)
            return True

        try:
            while fill(_HEADER.size):
                size = _HEADER.unpack_from(buf)[0]
                if not size:
                    del buf[:_HEADER.size]
                    self.started = True  # the process took its task
                    task = self.task
                    if task is not None and task._state is not None \
                            and task._state.pending is not None:
                        self.soft_stop()  # its soft limit passed before it got there
                    del task  # parked here until the next frame: keep no task alive
                    continue
                end = _HEADER.size + size
                if len(buf) < end and size > _CHUNK:
                    frame = self._recv_big(buf, size)  # not through the buffer
                    if frame is None:
                        return
                    yield frame
                    continue
                if not fill(end):
                    return
                frame = buf[_HEADER.size:end]
                del buf[:end]
                yield frame
        except OSError:
            return

    def _recv_big(self, buf: bytearray, size: int) -> bytearray | None:
        """The rest of a big frame whose start is in *buf* (emptied), read in place."""
        frame = bytearray(size)
        have = len(buf) - _HEADER.size
        frame[:have] = buf[_HEADER.size:]
        buf.clear()
        view = memoryview(frame)
        pause_at = have + SLICE
        while have < size:
            count = self.sock.recv_into(view[have:])
            if not count:
                return None
            have += count
            if have >= pause_at and have < size:
                _yield_to_hub()
                pause_at = have + SLICE
        return frame

    def _read(self) -> None:
        pool = self._pool
        error = None
        try:
            frames = self._frames()
            frame = next(frames, None)
            if frame is not None:
                status, value = pickle.loads(frame)
                if status == 'ready':
                    self.ready = True
                    self.settled.set()
                    for frame in frames:
                        task = self.task
                        if task is not None:
                            ok, value = _load_outcome(frame)
                            del frame
                            self.done += 1
                            self.task = None
                            pool._task_ended(self, task, ok, value, alive=True)
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
        self.sock.close()
        code = self._reap()
        task, self.task = self.task, None
        pool = self._pool
        if task is not None and error is None and not self.started and not pool.closing_kill \
                and pool._retry(task):
            task = None  # the process died before it took the task, which never ran: once more
        if task is not None:
            if error is not None:
                message = (f'worker process {self.pid} could not start, so {task!r} did not '
                           f'run:\n{error}')
            elif pool.closing_kill:
                message = (f'{task!r} was stopped: the supervisor stopped and its wait ran out '
                           f'(worker process {self.pid} was killed)')
            else:
                message = (f'worker process {self.pid} died ({_describe(code)}) '
                           f'while running {task!r}')
            pool._task_ended(self, task, False, WorkerProcessDied(message), alive=False)
        elif error is not None:
            logger.error('worker process %s could not start:\n%s', self.pid, error)
        pool._worker_gone(self, code)

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

    def run(self, task: Task[Any]) -> None:
        """Send *task* to the process. Pickles it here, one task at a time as
        processes free up, so a burst of big arguments never holds the hub
        for long in one go."""
        self.task = task
        self.started = False
        try:
            target = task.target
            if task._trace is not None and _tracing.tracer is not None:
                target = _tracing.tracer.process_target(task, target)
            payload = dump_call(target, task.args, task.kwargs)
        except TypeError as exc:
            self.task = None
            # reported from a greenlet of its own: the caller may be the pump
            gevent.spawn(self._pool._task_ended, self, task, False, exc, True)
            return
        self._send(payload)

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
        try:
            os.close(self.sock.detach())
        except OSError:
            pass
        self.reader.kill(block=False)  # a reader that survived in this hub ends quietly

    def close(self) -> None:
        """Ask the process to exit (an empty frame); the reader then reaps it."""
        self._send(b'')

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


def _fork(fd: int, pool: ProcessPool) -> int:
    """Fork a worker process that serves on *fd*; the parent gets its pid.

    The child is a copy of this process, so it has the parent's ``__main__``
    (and everything defined there before the fork) without running the main
    script again, as with a forking ``multiprocessing`` pool. The fork is
    made from a new bare OS thread that never ran a gevent hub: the child
    then has no copy of the supervisor's hub (its greenlets, timers and
    sockets) in the thread it runs, only a fresh hub if a task needs one.
    The calling greenlet waits for the fork cooperatively (the hub runs on;
    the pool counts the process as starting meanwhile).
    """
    # Or the child would write the parent's buffered output again.
    _process_child.flush_std_streams()
    forked: list[Any] = []
    finished = Latch()
    fork = gevent.monkey.get_original('os', 'fork')  # gevent's would re-arm a hub in the child
    options = (pool.maxtasksperchild, pool._initializer, pool._initargs)

    def forker() -> None:
        try:
            with warnings.catch_warnings():
                # 3.12+: "This process is multi-threaded, use of fork() may lead
                # to deadlocks": the child runs none of the other threads' code.
                warnings.simplefilter('ignore', DeprecationWarning)
                pid = fork()
            if pid == 0:  # pragma: no cover - the child, which exits in there
                _forked_child(fd, *options)
            forked.append(pid)
        except BaseException as exc:
            forked.append(exc)
        finally:
            finished.set()

    gevent.monkey.get_original('_thread', 'start_new_thread')(forker, ())
    finished.wait()
    if isinstance(forked[0], BaseException):
        raise forked[0]
    pid: int = forked[0]
    return pid


def _forked_child(fd: int, max_tasks: int | None, initializer: Callable[..., Any] | None,
                  initargs: tuple[Any, ...]) -> NoReturn:
    # In the child, in the thread that forked (now its only thread).
    code = 1
    try:
        gc.freeze()  # the parent's objects are never collected here (no stray close())
        if fd < 3:
            fd = fcntl.fcntl(fd, fcntl.F_DUPFD, 3)
        _close_fds_except(fd)  # the parent's sockets, pipes and other workers' ends
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        set_signal = gevent.monkey.get_original('signal', 'signal')
        set_signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when work stops
        set_signal(signal.SIGCHLD, signal.SIG_DFL)  # not the parent's hub's handler
        _process_child.serve_forked(fd, max_tasks, initializer, initargs)
        code = 0
    finally:
        _process_child.flush_std_streams()
        os._exit(code)


def _close_fds_except(keep: int) -> None:
    try:
        fds = [int(name) for name in os.listdir('/proc/self/fd')]
    except OSError:
        fds = list(range(3, min(os.sysconf('SC_OPEN_MAX'), 65536)))
    for fd in fds:
        if fd > 2 and fd != keep:
            try:
                os.close(fd)
            except OSError:
                pass


_guarded: dict[tuple[str, float], bool] = {}


def main_is_guarded() -> bool:
    """True unless the main script is a file with no ``if __name__ == '__main__':``
    block at its top level (a spawned worker would run its whole body)."""
    path = getattr(sys.modules.get('__main__'), '__file__', None)
    try:
        key = (str(path), os.stat(str(path)).st_mtime) if path else None
    except OSError:
        key = None
    if key is None:
        return True  # no script a worker could import (-c, the REPL, an embedded interpreter)
    if key not in _guarded:
        try:
            with open(key[0], 'rb') as source:
                tree = ast.parse(source.read())
        except (OSError, SyntaxError, ValueError):
            _guarded[key] = True  # not Python source: multiprocessing's spawn does not run it
        else:
            _guarded[key] = any(isinstance(node, ast.If) and _tests_main(node.test)
                                for node in tree.body)
    return _guarded[key]


def _tests_main(test: ast.expr) -> bool:
    """``__name__ == '__main__'`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == '__name__']
    values = [s for s in sides if isinstance(s, ast.Constant) and s.value == '__main__']
    return bool(names and values)


def check_not_preparing(what: str) -> None:
    """RuntimeError when a spawned worker process, importing the parent's main
    script, tries to *what*: the script's body would run in every worker."""
    if os.environ.get(_process_child.PREPARING_ENV):
        raise RuntimeError(
            f'a gatasker worker process tried to {what} while importing the main module '
            "(pool start_method='spawn'): guard the script's entry point with "
            "if __name__ == '__main__':, or let the pool fork (start_method None or 'fork')")


def _spawn(fd: int, max_tasks: int) -> int:
    # posix_spawn: no Python code runs between fork and exec, so it is safe in
    # a process with threads, and gevent's patching does not touch it.
    child_fd = 3 if fd != 3 else 4
    argv = [sys.executable, *_interpreter_flags(), '-c', _BOOT, _CHILD_PATH, str(child_fd),
            str(max_tasks)]
    return os.posix_spawn(sys.executable, argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, fd, child_fd),  # first: fd may be 0 when stdin was closed
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
    ])


def _describe(code: int | None) -> str:
    if code is None or code == _UNKNOWN:
        return 'exit code unknown'
    if code < 0:
        try:
            return f'killed by {signal.Signals(-code).name}'
        except ValueError:
            return f'killed by signal {-code}'
    return f'exit code {code}'


def _load_outcome(frame: bytearray) -> tuple[bool, Any]:
    try:
        ok, value, tb = pickle.loads(frame)
    except Exception as exc:
        return False, pickle.UnpicklingError(
            f'the result of a TT_MP task could not be unpickled: {type(exc).__name__}: {exc}')
    if not ok and tb and isinstance(value, BaseException):
        value.__cause__ = RemoteTraceback(tb)
    return ok, value


def _interpreter_flags() -> list[str]:
    import subprocess
    return list(subprocess._args_from_interpreter_flags())  # type: ignore[attr-defined]


class ProcessPool:
    """gatasker's built-in pool of worker processes, for the TT_MP tier.

    Made by ``supervisor.create_mp_pool(processes=...)`` (or by default).
    A pool made by :meth:`~gatasker.TaskSupervisor.create_mp_pool` or
    :meth:`~gatasker.TaskSupervisor.set_mp_pool` starts its processes in the
    background as soon as its supervisor runs, so the first task does not
    wait for one; the default pool starts them when tasks need them. Dead
    processes are replaced. One task runs in a process at a time; tasks that wait for a process
    are handed out most important first (a CRITICAL task goes to the next
    free process ahead of all others).

    ``processes``: how many worker processes (default: the CPU count).
    ``initializer(*initargs)`` runs in each worker process when it starts.
    ``maxtasksperchild``: a worker process exits and is replaced after that
    many tasks (None: never).
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
                 initializer: Callable[..., Any] | None = None, initargs: Any = (),
                 maxtasksperchild: int | None = None, start_method: str | None = None) -> None:
        if start_method is not None and (start_method not in START_METHODS or (
                start_method == 'fork' and not hasattr(os, 'fork'))):
            raise ValueError(f'start_method must be None or one of {START_METHODS} (fork '
                             f'where the platform has it), got {start_method!r}')
        if processes is None:
            processes = os.cpu_count() or 1
        check_size('processes', processes)
        if processes < 1:
            raise ValueError(f'processes must be at least 1, got {processes}')
        if initializer is not None and not callable(initializer):
            raise TypeError(f'initializer must be callable or None, got {initializer!r}')
        if maxtasksperchild is not None:
            check_size('maxtasksperchild', maxtasksperchild)
            if maxtasksperchild < 1:
                raise ValueError(f'maxtasksperchild must be at least 1, got {maxtasksperchild}')
        self.processes = processes
        #: True for the default pool, whose size follows the tier's limits.
        self.follows_limits = False
        self.maxtasksperchild = maxtasksperchild
        self._initializer = initializer
        self._initargs = tuple(initargs)
        self.start_method = start_method
        #: Start every process as soon as the pool opens (create_mp_pool, set_mp_pool).
        self.prestart = False
        if start_method != 'fork':
            _dump_initializer(initializer, self._initargs)  # TypeError now, not in each process
        self._finish: Callable[[Task[Any], bool, Any], None] | None = None
        self._workers: list[_Worker] = []
        self._idle: list[_Worker] = []
        self._waiting: list[tuple[int, int, Task[Any]]] = []
        self._seq = itertools.count()
        self._retried: weakref.WeakSet[Task[Any]] = weakref.WeakSet()
        self.closing = False
        self.closing_kill = False
        #: Worker processes started in place of one that ended (any thread may read).
        self.replaced = 0
        self._on_closed: Callable[[], None] | None = None
        self._filling = False
        self._starting = 0  # processes being forked (the fork yields)

    def __repr__(self) -> str:
        return f'<gatasker.ProcessPool processes={self.processes} running={len(self._workers)}>'

    @property
    def pids(self) -> list[int]:
        """The process ids of the worker processes running now."""
        return [worker.pid for worker in list(self._workers)]

    # -- in the supervisor's hub -------------------------------------------------------

    def open(self, finish: Callable[[Task[Any], bool, Any], None]) -> None:
        """Start taking tasks; *finish(task, ok, value)* reports each end."""
        self._finish = finish
        self.closing = self.closing_kill = False
        for worker in self._workers:  # left from a run whose hub is gone
            worker.kill()
        self._workers, self._idle, self._waiting = [], [], []
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
        workers, self._workers, self._idle, self._waiting = self._workers, [], [], []
        for worker in workers:
            try:
                worker.forget_parent()
            except Exception:
                logger.exception('%r: letting go of it after a fork failed', worker)

    def submit(self, task: Task[Any]) -> None:
        heapq.heappush(self._waiting, (task.priority, next(self._seq), task))
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
                        _, _, task = heapq.heappop(waiting)
                        self._report(task, False, exc)
                    continue
                if not waiting or self.closing:  # emptied while the process started
                    self._park(worker)
                    return
            else:
                return
            _, _, task = heapq.heappop(waiting)
            worker.run(task)

    def _take_idle(self) -> _Worker:
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

    def _park(self, worker: _Worker) -> None:
        """An unused new process: idle, or asked to exit if the pool closes."""
        if self.closing:
            worker.close()
        else:
            self._idle.append(worker)

    def _start_worker(self) -> _Worker:
        # Made anew for each process: sys.path may have changed meanwhile.
        method = self.start_method or ('spawn' if main_is_guarded() else 'fork')
        preparation = None if method == 'fork' else \
            _preparation_data(self._initializer, self._initargs)
        self._starting += 1
        try:
            worker = _Worker(self, preparation)  # may yield: a fork waits for its thread
        finally:
            self._starting -= 1
        self._workers.append(worker)
        return worker

    def _report(self, task: Task[Any], ok: bool, value: Any) -> None:
        assert self._finish is not None
        self._finish(task, ok, value)

    def _retry(self, task: Task[Any]) -> bool:
        """Queue *task* first once more, unless it was retried already."""
        if task in self._retried:
            return False
        self._retried.add(task)
        heapq.heappush(self._waiting, (task.priority, -1, task))
        return True

    def _fail_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        for _, _, task in waiting:
            self._report(task, False, WorkerProcessDied(f'{task!r} did not run: the pool closed'))

    def _task_ended(self, worker: _Worker, task: Task[Any], ok: bool, value: Any,
                    alive: bool) -> None:
        self._report(task, ok, value)
        if not alive or worker not in self._workers:
            return  # the worker is gone (or going); _worker_gone handles it
        if self.maxtasksperchild is not None and worker.done >= self.maxtasksperchild:
            return  # the process exits by itself; _worker_gone replaces it
        if len(self._workers) > self.processes:
            self._workers.remove(worker)  # the pool shrank
            worker.close()
        elif self.closing:
            worker.close()
        else:
            self._idle.append(worker)
            self._pump()

    def _worker_gone(self, worker: _Worker, code: int | None) -> None:
        if worker in self._idle:
            self._idle.remove(worker)
        if worker in self._workers:
            self._workers.remove(worker)
        if not self.closing:
            if worker.ready and code not in (0, None):
                logger.warning('%r ended (%s); starting a new one', worker, _describe(code))
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

    def interrupt(self, task: Task[Any], exc: BaseException, hard: bool) -> bool:
        """Stop *task*: hard, it fails with *exc* now and its worker process is
        killed (and replaced); soft, SIGUSR1 raises a TimeoutError in the task's
        code in its process. False if the task is not here."""
        for index, (_, _, waiting) in enumerate(self._waiting):
            if waiting is task:
                if not hard:
                    return False  # not running yet: only a hard stop applies
                self._waiting.pop(index)
                heapq.heapify(self._waiting)
                self._report(task, False, exc)
                return True
        for worker in self._workers:
            if worker.task is task:
                if hard:
                    worker.task = None  # its death is then no task's end
                    worker.kill()
                    self._report(task, False, exc)
                elif worker.started:  # else the reader does it once it started
                    worker.soft_stop()
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

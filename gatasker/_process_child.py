"""The main program of a worker process of gatasker's built-in process pool.

With the ``'spawn'`` start method the pool starts a fresh interpreter
(``python -c ... <this file> <fd>``) that talks to its parent over one end of
a socket pair, so nothing of the parent's state is copied into the child.
This file then runs as a script, not as part of the package, and imports
only the standard library, so a worker starts fast. With ``'fork'`` (the
default) a forked copy of the parent calls `serve_forked` instead: it
has the parent's modules already, and sends no preparation data.

Frames on the socket are an 8-byte big-endian length followed by that many
bytes of pickle. The parent sends first the preparation data of
`multiprocessing.spawn` (so the child can import the parent's
``__main__`` under the name ``__mp_main__``, as multiprocessing's spawn
start method does), then one ``(target, args, kwargs)`` per task. The child
imports the pool's ``preload`` modules, runs its initializer and answers
``('ready', failed)``, *failed* a list of ``(module, traceback_text)`` for the
preload modules that could not be imported (or ``('error', traceback_text)``
when it could not prepare), then per task an empty frame as soon as it took the task, and
``(ok, value, traceback_text)`` at its end. An empty frame
or the end of the stream tells the child to exit. A frame that starts with
``WARM_UP`` is no task: it names modules (one per line) that tasks of other
worker processes needed; the child imports them, so that its first such task
does not wait for the import, and answers nothing.
"""

from __future__ import annotations

import _socket
import os
import pickle
import signal
import struct
import sys
import traceback
from collections.abc import Callable, Iterable
from types import FrameType

HEADER = struct.Struct('!Q')

#: An empty frame from the child: it took the task (what follows is its outcome).
STARTED = HEADER.pack(0)

#: How a frame from the parent that names modules to import starts (never a pickle).
WARM_UP = b'W'

#: Set while a worker process imports the parent's main module: a pool that
#: tries to start processes then (an unguarded main script) raises instead.
PREPARING_ENV = 'GATASKER_WORKER_PREPARING'


def _recv_exact(sock: _socket.socket, size: int) -> bytearray | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        count = sock.recv_into(view[got:])
        if count == 0:
            return None
        got += count
    return buffer


def _recv_frame(sock: _socket.socket) -> bytearray | None:
    header = _recv_exact(sock, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size == 0:
        return None
    return _recv_exact(sock, size)


def _send_frame(sock: _socket.socket, data: bytes) -> None:
    if len(data) <= 65536:
        sock.sendall(HEADER.pack(len(data)) + data)
    else:
        sock.sendall(HEADER.pack(len(data)))
        sock.sendall(data)


def _dump_outcome(ok: bool, value: object, tb: str | None) -> bytes:
    try:
        data = pickle.dumps((ok, value, tb), pickle.HIGHEST_PROTOCOL)
        if not ok:
            pickle.loads(data)  # an exception that pickles but cannot be rebuilt
        return data
    except Exception as exc:
        what = 'result' if ok else f'exception {type(value).__qualname__}: {value}'
        error = pickle.PicklingError(
            f'the worker process could not send the task\'s {what} back: '
            f'{type(exc).__name__}: {exc}')
        return pickle.dumps((False, error, tb), pickle.HIGHEST_PROTOCOL)


def _prepare(sock: _socket.socket) -> bool:
    frame = _recv_frame(sock)
    if frame is None:
        return False
    os.environ[PREPARING_ENV] = '1'
    try:
        data = pickle.loads(frame)
        initializer_data = data.pop('gatasker_initializer')
        preload = data.pop('gatasker_preload')
        import multiprocessing.spawn
        multiprocessing.spawn.prepare(data)  # sys.path first: the modules are found there
        failed = import_modules(preload)
        initializer, initargs = pickle.loads(initializer_data)
        if initializer is not None:
            initializer(*initargs)
    except BaseException:
        _send_frame(sock, pickle.dumps(('error', traceback.format_exc())))
        return False
    finally:
        os.environ.pop(PREPARING_ENV, None)
    _send_frame(sock, pickle.dumps(('ready', failed)))
    return True


def import_modules(names: Iterable[str]) -> list[tuple[str, str]]:
    """Import the modules *names*; return ``(name, traceback_text)`` of each that
    failed. Any exception counts, SystemExit and KeyboardInterrupt included: a
    module that cannot be imported ahead of time leaves the process serving (a
    task that needs it fails with the error then)."""
    import importlib
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException:  # the caller reports it (or a task will); the process serves on
            failed.append((name, traceback.format_exc()))
    return failed


def _open(fd: int) -> _socket.socket:
    # _socket, not socket: in a forked copy of a monkey-patched parent,
    # socket.socket is gevent's, bound to the parent's hub.
    sock = _socket.socket(fileno=fd)
    sock.setblocking(True)  # the parent's end is non-blocking, and they shared a flag
    return sock


#: True while a task's target runs: a soft limit raises only then.
_running = [False]
#: A soft limit came for the task taken before its target began: it raises there.
_stop_due = [False]
_SOFT_LIMIT_PASSED = 'the soft time limit of the task passed'


def _soft_limit(signum: int, frame: FrameType | None) -> None:
    if _running[0]:
        _running[0] = False  # once
        raise TimeoutError(_SOFT_LIMIT_PASSED)
    _stop_due[0] = True


def serve(fd: int, max_tasks: int | None = None) -> None:
    """Run tasks received on the socket *fd* until the parent says stop or goes away."""
    sock = _open(fd)
    if not _prepare(sock):
        return
    # The parent decides when work stops; a Ctrl-C in the terminal reaches the
    # whole process group and must not kill a task half-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _serve_tasks(sock, max_tasks, flush=False)


def serve_forked(fd: int, max_tasks: int | None, initializer: Callable[..., object] | None,
                 initargs: tuple[object, ...], preload: tuple[str, ...]) -> None:
    """`serve` for a forked worker process: the parent's code is here
    already, only the *preload* modules the parent has not imported and the
    initializer run (the caller ignores SIGINT)."""
    sock = _open(fd)
    failed = import_modules(preload)
    try:
        if initializer is not None:
            initializer(*initargs)
    except BaseException:
        _send_frame(sock, pickle.dumps(('error', traceback.format_exc())))
        return
    _send_frame(sock, pickle.dumps(('ready', failed)))
    # The output of a task shows when it ends: the process leaves by
    # os._exit(), which would drop what its copied buffers hold.
    _serve_tasks(sock, max_tasks, flush=True)


def flush_std_streams() -> None:
    """Write out what ``sys.stdout`` and ``sys.stderr`` buffer (before a fork or
    ``os._exit()``). A stream that cannot be flushed is left as it is: there is
    nowhere left to report that."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass


def _warm_up(frame: bytearray) -> None:
    """Import the modules a warm-up frame names. What fails is left for the task
    that needs the module to report; nothing of it reaches the parent."""
    import_modules(name for name in frame[len(WARM_UP):].decode().split('\n')
                   if name and name not in sys.modules)


def _serve_tasks(sock: _socket.socket, max_tasks: int | None, flush: bool) -> None:
    # The parent sends SIGUSR1 when a task's soft time limit passes.
    signal.signal(signal.SIGUSR1, _soft_limit)
    done = 0
    while max_tasks is None or done < max_tasks:
        frame = _recv_frame(sock)
        if frame is None:
            return
        if frame.startswith(WARM_UP):
            _warm_up(frame)
            continue
        _stop_due[0] = False  # a signal that came before this task was for another
        sock.sendall(STARTED)
        tb = None
        try:
            target, args, kwargs = pickle.loads(frame)
            del frame
            _running[0] = True
            try:
                if _stop_due[0]:  # the parent signals at once a limit that passed already
                    _running[0] = False
                    raise TimeoutError(_SOFT_LIMIT_PASSED)
                ok, value = True, target(*args, **kwargs)
            finally:
                _running[0] = False
        except BaseException as exc:  # reported as the task's outcome
            ok, value, tb = False, exc, traceback.format_exc()
        if flush:
            flush_std_streams()
        _send_frame(sock, _dump_outcome(ok, value, tb))
        value = None
        done += 1


if __name__ == '__main__':
    serve(int(sys.argv[1]), int(sys.argv[2]) or None)
    sys.exit(0)

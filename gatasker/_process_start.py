"""How a worker process of the built-in pool starts: spawned or forked.

``'spawn'`` starts a fresh interpreter with ``os.posix_spawn`` (no Python code
runs between the clone and the ``exec``: safe in a process with threads)
running ``gatasker/_process_child.py`` as a script, and sends it the
preparation data of ``multiprocessing.spawn`` first. ``'fork'`` forks the
parent from a bare OS thread, and the child serves with the parent's modules.
Either way the process talks to the pool over one end of a socket pair.
"""

from __future__ import annotations

import ast
import fcntl
import gc
import os
import pickle
import signal
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import NoReturn

import gevent.monkey

from . import _process_child
from ._bridge import Latch
from ._uwsgi import python_executable

_CHILD_PATH = _process_child.__file__
_BOOT = "import sys, runpy; sys.argv.pop(0); runpy.run_path(sys.argv[0], run_name='__main__')"

#: How a pool starts its worker processes (see ProcessPool).
START_METHODS = ('fork', 'spawn')


def _dumps(obj: object, what: str) -> bytes:
    """Pickle *obj*; TypeError saying that *what* must be picklable if it cannot be."""
    try:
        return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise TypeError(f'{what}: {type(exc).__name__}: {exc}') from exc


def dump_call(target: Callable[..., object], args: tuple[object, ...],
              kwargs: Mapping[str, object]) -> bytes:
    """Pickle a call for a worker process; TypeError if it cannot travel there."""
    return _dumps((target, args, kwargs), 'a TT_MP task needs a picklable target and '
                  'arguments (a module-level function and plain data)')


def check_preload(preload: Iterable[str]) -> tuple[str, ...]:
    """The ``preload`` option as a tuple of absolute module names.

    Raises:
        TypeError: A str (one name, not an iterable of names), something not
            iterable, or an item that is not a str.
        ValueError: An item that is no absolute dotted module name.
    """
    if isinstance(preload, (str, bytes)):
        raise TypeError(f'preload must be an iterable of module names, not one '
                        f'{type(preload).__name__} (write preload=[{preload!r}])')
    try:
        names = tuple(preload)
    except TypeError:
        raise TypeError(f'preload must be an iterable of module names, got {preload!r}') from None
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f'preload must hold module names (str), got {name!r}')
        if not all(part.isidentifier() for part in name.split('.')):
            raise ValueError(f'preload must hold absolute module names, got {name!r}')
    return names


def preparation_data(initializer: Callable[..., object] | None,
                     initargs: tuple[object, ...], preload: tuple[str, ...]) -> bytes:
    import multiprocessing.spawn
    data = multiprocessing.spawn.get_preparation_data('gatasker-worker')
    main_path = data.get('init_main_from_path')
    if main_path is not None and not os.path.isfile(main_path):
        del data['init_main_from_path']  # '<stdin>', '-c' ...: nothing to import
    data['authkey'] = bytes(data['authkey'])
    # Pickled apart: it can be unpickled only once sys.path is the parent's.
    data['gatasker_initializer'] = dump_initializer(initializer, initargs)
    data['gatasker_preload'] = preload
    return pickle.dumps(data, pickle.HIGHEST_PROTOCOL)


def dump_initializer(initializer: Callable[..., object] | None,
                     initargs: tuple[object, ...]) -> bytes:
    return _dumps((initializer, initargs), 'the pool initializer and initargs must be picklable')



def fork_process(fd: int, max_tasks: int | None, initializer: Callable[..., object] | None,
                 initargs: tuple[object, ...], preload: tuple[str, ...]) -> int:
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
    forked: list[int | BaseException] = []
    finished = Latch()
    fork = gevent.monkey.get_original('os', 'fork')  # gevent's would re-arm a hub in the child
    options = (max_tasks, initializer, initargs, preload)

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


def _forked_child(fd: int, max_tasks: int | None, initializer: Callable[..., object] | None,
                  initargs: tuple[object, ...], preload: tuple[str, ...]) -> NoReturn:
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
        _process_child.serve_forked(fd, max_tasks, initializer, initargs, preload)
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


def spawn_process(fd: int, max_tasks: int) -> int:
    # posix_spawn: no Python code runs between fork and exec, so it is safe in
    # a process with threads, and gevent's patching does not touch it.
    child_fd = 3 if fd != 3 else 4
    executable = python_executable()  # not sys.executable: under uWSGI that is uwsgi
    argv = [executable, *_interpreter_flags(), '-c', _BOOT, _CHILD_PATH, str(child_fd),
            str(max_tasks)]
    # gevent's patched posix_spawn watches the child with a libev child watcher,
    # which only the default loop has: in a hub of another thread (threaded mode)
    # or uWSGI's --lazy-apps worker it raises TypeError. The worker waits for
    # the exit itself (pidfd, waitpid), so there the original spawns.
    spawn = os.posix_spawn
    if not getattr(gevent.get_hub().loop, 'default', True):
        spawn = gevent.monkey.get_original('os', 'posix_spawn')
    return spawn(executable, argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, fd, child_fd),  # first: fd may be 0 when stdin was closed
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
    ])



def _interpreter_flags() -> list[str]:
    """The parent's interpreter options (``-X``, ``-W``, ``-O`` ...) for a spawned worker."""
    import subprocess
    # The list multiprocessing's spawn passes on too; the stdlib has it only as a
    # private, untyped helper, so it is looked up and typed here.
    flags: Callable[[], list[str]] = vars(subprocess)['_args_from_interpreter_flags']
    return list(flags())

"""What gatasker needs to know when it runs inside uWSGI.

Two things differ there: how uWSGI forks (below), and ``sys.executable``,
which is the ``uwsgi`` binary, so the process tier finds the Python
interpreter to spawn its worker processes with (``python_executable``).

uWSGI embeds Python in its own binary and forks its workers (and mules,
spoolers, respawned workers) from the master with the C ``fork()``. Unless it
runs with ``--py-call-uwsgi-fork-hooks``, it forks without taking the GIL
first: a Python thread of the master that holds the GIL at that moment
leaves the new worker waiting for it forever (seen here with a supervisor's
hub thread: the worker stalls in ``take_gil`` before it runs any Python, never
serves, and is killed after ``--worker-reload-mercy`` at shutdown). No Python
code runs before such a fork, so gatasker cannot make it safe itself: it
refuses to start in a process that will fork that way.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

from ._errors import GataskerError

__all__ = ['check_start_is_fork_safe', 'python_executable']

FORK_HOOKS = 'py-call-uwsgi-fork-hooks'


def _uwsgi() -> ModuleType | None:
    """uWSGI's embedded module, or None outside uWSGI.

    uWSGI puts it in sys.modules before any Python code runs, so it is looked
    up, never imported: an import, even a failing one, takes importlib's lock
    for the name, which under patch_all() is a gevent lock, and several OS
    threads starting supervisors at once then hit LoopExit on it.
    """
    module = sys.modules.get('uwsgi')
    return module if isinstance(module, ModuleType) else None


def _forks_without_gil(uwsgi: ModuleType) -> bool:
    """Whether this uWSGI process forks others without taking the GIL."""
    options = getattr(uwsgi, 'opt', None)
    if isinstance(options, dict) and options.get(FORK_HOOKS):
        return False  # the GIL and the import lock are taken around each fork
    if uwsgi.masterpid() == os.getpid():
        return True  # the master forks every worker, mule and spooler
    # Without a master the first process forks the other workers while its
    # app loads (worker id 0); a single process forks nothing.
    return bool(uwsgi.masterpid() == 0 and uwsgi.worker_id() == 0 and uwsgi.numproc > 1)


def check_start_is_fork_safe() -> None:
    """Raise GataskerError when starting here would deadlock uWSGI's workers.

    Any thread; does not block. Outside uWSGI, in a uWSGI worker, or with
    ``--py-call-uwsgi-fork-hooks`` it does nothing.
    """
    uwsgi = _uwsgi()
    if uwsgi is None or not _forks_without_gil(uwsgi):
        return
    raise GataskerError(
        'gatasker cannot start a supervisor in a uWSGI process that forks workers '
        f'(pid {os.getpid()}, the app loaded in the master): uWSGI forks them without '
        "taking the GIL, so a worker forked while a supervisor's thread holds it hangs "
        f'for good. Run uWSGI with --{FORK_HOOKS} (or --lazy-apps), or start gatasker in the '
        'workers only (see the deployment docs)')


def python_executable() -> str:
    """The Python interpreter that spawned worker processes run.

    Any thread; does not block. ``sys.executable``, unless
    ``multiprocessing.set_executable()`` chose another (that choice wins), or
    inside uWSGI, where ``sys.executable`` is the ``uwsgi`` binary: there the
    interpreter of the same version in the environment uWSGI runs
    (``--virtualenv``/``--home``, else the base installation). Raises
    GataskerError inside uWSGI when there is none.
    """
    # Not imported here (it costs import time): a choice made with
    # set_executable() has imported it already.
    spawn = sys.modules.get('multiprocessing.spawn')
    chosen = sys.executable
    if spawn is not None:
        chosen = os.fsdecode(spawn.get_executable())  # bytes on POSIX in 3.11+
    if chosen != sys.executable or _uwsgi() is None:
        return chosen
    # python3.X only, not python3/python: those may be another version.
    name = f'python{sys.version_info.major}.{sys.version_info.minor}'
    for prefix in dict.fromkeys((sys.prefix, sys.exec_prefix, sys.base_exec_prefix)):
        candidate = os.path.join(prefix, 'bin', name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise GataskerError(
        f'TT_MP inside uWSGI: no {name} interpreter in {sys.prefix}/bin or '
        f'{sys.base_exec_prefix}/bin (sys.executable is the uwsgi binary); name one with '
        'multiprocessing.set_executable()')

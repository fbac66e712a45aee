"""What gatasker needs to know when it runs inside uWSGI.

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

import importlib
import os
from types import ModuleType

from ._errors import GataskerError

__all__ = ['check_start_is_fork_safe']

FORK_HOOKS = 'py-call-uwsgi-fork-hooks'


def _uwsgi() -> ModuleType | None:
    """uWSGI's embedded module, or None outside uWSGI."""
    try:
        return importlib.import_module('uwsgi')
    except ImportError:
        return None


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

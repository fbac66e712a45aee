"""Task targets for test_contrib_dask.py, imported by the dask workers too.

The test cluster's workers find this module on PYTHONPATH and load it with
``--preload dask_targets``, which installs :class:`ReadyWatch`: the worker
then notifies :data:`ready_changed` whenever a task enters or leaves its
ready queue, so a target can wait for queued work without polling.

Targets that meet the test process use :func:`check_in`: a line over TCP to
the test's rendezvous server, answered at once or, for a held task, when the
test releases its tag.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from typing import Any

ready_changed = threading.Condition()


class TargetError(Exception):
    """Raised by :func:`boom`; importable on both sides, so its type survives the trip."""


# -- plain targets ----------------------------------------------------------------------

def add(a: int, b: int, **_: Any) -> int:
    return a + b


def boom(message: str, **_: Any) -> None:
    raise TargetError(message)


def echo_kwargs(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k != '_task_id'}


def current_key(**_: Any) -> str:
    """The dask key of the task running this call."""
    from distributed import get_worker
    key = get_worker().get_current_task()
    assert isinstance(key, str)
    return key


def pid(**_: Any) -> int:
    return os.getpid()


def die(**_: Any) -> None:
    """Kill the worker process running this task (a poison task)."""
    os.kill(os.getpid(), signal.SIGKILL)


# -- meeting the test process -----------------------------------------------------------

def check_in(address: tuple[str, int], tag: str, hold: bool = False) -> int:
    """Tell the rendezvous at *address* that *tag* runs here (this process's pid and worker
    address); with *hold*, wait until the test releases *tag*. Returns the pid.
    """
    from distributed import get_worker
    with socket.create_connection(tuple(address), timeout=120) as sock:
        message = {'tag': tag, 'pid': os.getpid(), 'worker': get_worker().address, 'hold': hold}
        sock.sendall(json.dumps(message).encode() + b'\n')
        with sock.makefile('rb') as reply:
            answer = reply.readline()
    if answer != b'go\n':
        raise RuntimeError(f'the rendezvous closed before releasing {tag!r}')
    return os.getpid()


def report(address: tuple[str, int], tag: str, **_: Any) -> int:
    return check_in(address, tag)


def hold(address: tuple[str, int], tag: str, **_: Any) -> int:
    return check_in(address, tag, hold=True)


def hold_until_queued(address: tuple[str, int], tag: str, queued: int, **_: Any) -> int:
    """Check in, then keep this worker's only thread busy until *queued* tasks wait behind it."""
    from distributed import get_worker
    check_in(address, tag)
    state = get_worker().state
    with ready_changed:
        if not ready_changed.wait_for(lambda: len(state.ready) >= queued, timeout=60):
            raise RuntimeError(f'only {len(state.ready)} of {queued} tasks were queued')
    return os.getpid()


# -- the worker preload -----------------------------------------------------------------

try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # the test module skips itself then
    pass
else:
    class ReadyWatch(WorkerPlugin):
        """Wakes :func:`hold_until_queued` when the worker's ready queue changes."""

        def transition(self, key: Any, start: str, finish: str, *args: Any,
                       **kwargs: Any) -> None:
            if 'ready' in (start, finish):
                with ready_changed:
                    ready_changed.notify_all()

    async def dask_setup(worker: Any) -> None:
        await worker.plugin_add(ReadyWatch(), name='gatasker-tests-ready-watch')

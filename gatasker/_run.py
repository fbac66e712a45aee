"""One run of a supervisor: what lives from a ``start()`` to the end of its stop.

A `HubRun` is made in the hub that runs the supervisor (the caller's in
embedded mode, a new OS thread's in threaded mode), so its hub, the id of that
hub's OS thread and its inbox exist for its whole life. Everything on it is
changed only by the supervisor's mailbox greenlet and its stop sequence, in
that hub; other threads read the latches and flags.
"""

from __future__ import annotations

from typing import Any

from gevent.hub import Hub

from ._admission import Admission
from ._bridge import Inbox, Latch
from ._inspect import InspectServer
from ._port import HubPort
from ._task import Task
from ._task_run import TaskRun
from ._tier import Tier
from ._watchdog import HubWatchdog


class HubRun:
    """The hub, inbox, tiers and stop bookkeeping of one run of a supervisor.

    Args:
        mode: ``'embedded'`` or ``'threaded'``.
        hub: the hub that runs the supervisor's mailbox (the caller's).
        thread_id: the real id of that hub's OS thread.
        inbox: the supervisor's mailbox, drained in *hub*.

    Made in the hub's own thread; never blocks.
    """

    def __init__(self, mode: str, hub: Hub, thread_id: int, inbox: Inbox) -> None:
        self.mode = mode
        self.hub = hub
        self.thread_id = thread_id
        self.inbox = inbox
        #: What actors and workers get of the run (they never see its hub or inbox).
        self.port = HubPort(hub, thread_id, inbox)
        self.watchdog: HubWatchdog | None = None
        self.inspect: InspectServer | None = None
        self.tiers: dict[int, Tier] = {}
        self.admissions: dict[int, Admission[TaskRun]] = {}
        self.stopped = Latch()
        self.exited = Latch()  # the mailbox (and in threaded mode its thread) ended
        self.quiet: Latch | None = None  # set when no task is left during stop
        self.ignored: set[object] = set()  # ids of tasks stop() must not wait for
        # Whose code called stop() from inside: ids of actors and aloops the stop
        # sequence must not wait for, and aloops whose coroutine tasks it must not wait for.
        self.callers: set[int] = set()
        self.ignored_loops: set[object] = set()
        self.abandoned: dict[int, Task[Any]] = {}  # canceled by stop() before they started
        self.closing = False
        self.cancel_running = False  # stop(cancel_tasks=True): stop running tasks too

    @property
    def finished(self) -> bool:
        """True once the run ended: kept by its port, which actors and workers see."""
        return self.port.finished

    @finished.setter
    def finished(self, value: bool) -> None:
        self.port.finished = value

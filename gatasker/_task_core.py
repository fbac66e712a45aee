"""What a task's two faces share: its done flag, done-callbacks and run state.

A task has two faces: the user's `Task` handle (``_task.py``) and the
engine's `TaskRun` record (``_task_run.py``), which the engine, the tiers
and the policies hold. Both hold one `TaskCore`; the core never refers
back to either, so a finished task is freed by reference counting, never
left for the cycle collector. Methods that need the task take it as an
argument.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._bridge import HubCallback, Latch, real_thread_id, state_lock
from ._constants import TASK_STATUS_STARTED
from ._errors import TaskCancelled, TaskTimeout
from ._futures import FollowedTask, TaskFuture
from ._logging import logger
from ._policies import RunState

#: A done-callback: called with the task (a `Task`) once it is done.
DoneCallback = Callable[[Any], object]
#: The task, as the core sees it (it never keeps it).
AnyTask = FollowedTask[object]


class TaskCore(Latch):
    """A task's done flag (set once it is COMPLETED or CANCELED) plus what
    hangs on it. Any thread may call every method; none blocks but `wait`.

    Attributes:
        callbacks: Called with the task once it is done (None: none yet).
        links: The gevent rawlinks among *callbacks* (None: none).
        future: The task's ``concurrent.futures`` face, once asked for.
        state: While a limit or a stop request applies: see
            ``_policies.RunState`` (made on first use).
        run: The supervisor run (a ``HubRun``) the task was queued in.
    """

    __slots__ = ('callbacks', 'future', 'links', 'run', 'state')

    def __init__(self, state: RunState | None) -> None:
        Latch.__init__(self)  # not super(): one of these per task, and it is cheaper
        self.callbacks: list[DoneCallback] | None = None
        self.links: list[HubCallback] | None = None
        self.future: TaskFuture[Any] | None = None
        self.state = state
        self.run: object = None

    def run_state(self) -> RunState:
        """The task's RunState, made if it has none yet."""
        state = self.state
        if state is None:
            with state_lock:
                state = self.state
                if state is None:
                    state = self.state = RunState()
        return state

    def ask_to_stop(self, task: AnyTask, exc: BaseException) -> bool:
        """Record *exc* as the interruption of the running *task*; False if it is
        not running (any more) or already asked to stop."""
        state = self.run_state()
        with state_lock:
            if task.status != TASK_STATUS_STARTED or isinstance(state.pending, TaskCancelled):
                return False
            if isinstance(state.pending, TaskTimeout) and isinstance(exc, TaskTimeout):
                return True  # a hard limit after the soft one: same interruption, now enforced
            state.pending = exc
        return True

    def add_callback(self, task: AnyTask, func: DoneCallback) -> None:
        """Call ``func(task)`` once the task is done (at once if it is).

        *func* runs in whichever thread ends the task (the supervisor's hub,
        or a thread calling cancel()); it must not block.
        """
        with state_lock:
            if not self.is_set():
                if self.callbacks is None:
                    self.callbacks = []
                self.callbacks.append(func)
                return
        func(task)

    def remove_callback(self, func: DoneCallback) -> None:
        """Undo `add_callback()` (no-op if *func* already ran)."""
        with state_lock:
            if self.callbacks is not None and func in self.callbacks:
                self.callbacks.remove(func)

    def add_link(self, link: HubCallback) -> bool:
        """Keep a gevent rawlink until the task is done; False if it is done."""
        with state_lock:
            if self.is_set():
                return False
            if self.links is None:
                self.links = []
            self.links.append(link)
            if self.callbacks is None:
                self.callbacks = []
            self.callbacks.append(link.fire)
            return True

    def remove_links(self, func: Callable[..., object]) -> list[HubCallback]:
        """Drop the rawlinks of *func* the calling thread made; return them."""
        me = real_thread_id()
        with state_lock:
            current = self.links or []
            links = [link for link in current if link.func == func and link.owner_thread == me]
            for link in links:
                current.remove(link)
                if self.callbacks is not None and link.fire in self.callbacks:
                    self.callbacks.remove(link.fire)
        return links

    def keep_future(self, new: TaskFuture[Any]) -> tuple[TaskFuture[Any], bool]:
        """The task's future (*new* unless another thread set one first), and
        whether the task is done already."""
        with state_lock:
            if self.future is None:
                self.future = new
            return self.future, self.is_set()

    def finish(self, task: AnyTask) -> None:
        """Set the flag, then settle the future and call the callbacks with *task*."""
        self.set()
        future = self.future
        if future is not None:
            future.follow(task)
        # The flag is set, so nothing is added any more: no lock needed to see there is nothing.
        if self.callbacks is None:
            return
        with state_lock:
            callbacks, self.callbacks = self.callbacks, None
            self.links = None
        for func in callbacks or ():
            try:
                func(task)
            except Exception:
                logger.exception('task done-callback %r failed', func)

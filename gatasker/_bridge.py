"""Every edge between an OS thread and a gevent hub it does not own.

A gevent object belongs to the hub of the thread that made it. Code in
another thread reaches that hub only through the helpers here:

* `Inbox` (in `gatasker._inbox`) — a queue any thread may append to, drained by one greenlet
  in the owning hub. Appends from the owning thread wake the greenlet with a
  local callback; appends from other threads with a ref'd ``async_`` watcher,
  which also keeps the hub's loop alive so waits there never hit
  ``LoopExit``.
* `Latch` — a one-shot flag set from any thread and waited on from any
  thread or greenlet: cooperatively in a greenlet (the hub keeps running), by
  blocking the OS thread otherwise.
* `HubCallback` — a function to call in the hub of the thread that
  made it, fired once from any thread (gevent's ``rawlink`` protocol).
* `start_real_thread()` (in `gatasker._threads`, with the thread ids and
  names) — a real OS thread, also under monkey-patching.

`Inbox` and the thread helpers live in modules of their own and are
re-exported here: import every thread edge from this module.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import gevent
from gevent._hub_local import get_hub_if_exists
from gevent.hub import Hub
from gevent.hub import Waiter as HubWaiter
from greenlet import getcurrent

from ._inbox import Inbox as Inbox
from ._logging import logger
from ._threads import ThreadQueue as ThreadQueue
from ._threads import allocate_lock as allocate_lock
from ._threads import destroy_thread_hub as destroy_thread_hub
from ._threads import in_main_thread as in_main_thread
from ._threads import real_thread_id as real_thread_id
from ._threads import real_thread_name as real_thread_name
from ._threads import start_real_thread as start_real_thread
from ._threads import threading_is_patched as threading_is_patched

if TYPE_CHECKING:
    from _thread import LockType

T = TypeVar('T')

# Guards every Latch's waiter list and task state changes. Held only for a few bytecodes and never
# while waiting, so taking it from the hub is harmless.
state_lock = allocate_lock()
# A child process must not inherit it held by a thread that does not exist there.
os.register_at_fork(before=state_lock.acquire, after_in_parent=state_lock.release,
                    after_in_child=state_lock.release)

_INF = float('inf')


class _ThreadWaiter:
    """Blocks an OS thread that has no hub to wait in."""

    __slots__ = ('_os_lock',)

    def __init__(self) -> None:
        self._os_lock = allocate_lock()
        self._os_lock.acquire()

    def notify(self) -> None:
        self._os_lock.release()

    def wait(self, timeout: float | None) -> None:
        self._os_lock.acquire(True, -1 if timeout is None else timeout)

    def close(self) -> None:
        pass


class _KeepAlive:
    """One ref'd async watcher per hub, started while any greenlet there waits.

    A greenlet that waits only for a callback posted from another thread
    would otherwise see its loop run out of watchers (``LoopExit``).
    Owned by the hub's thread: created, started and stopped only there.
    """

    __slots__ = ('_waiting', '_watcher')

    def __init__(self, hub: Hub) -> None:
        self._watcher = hub.loop.async_()
        self._waiting = 0

    def hold(self) -> None:
        if not self._waiting:
            self._watcher.start(_nothing)
        self._waiting += 1

    def release(self) -> None:
        self._waiting -= 1
        if not self._waiting:
            self._watcher.stop()

    def serves(self, hub: Hub) -> bool:
        """True if this watches *hub*'s loop (a thread's hub may be replaced)."""
        return bool(self._watcher.loop is hub.loop)


def _nothing() -> None:
    pass


_keepalives: dict[int, _KeepAlive] = {}


def _keepalive_for(hub: Hub) -> _KeepAlive:
    # In the hub's thread.
    thread = real_thread_id()
    keepalive = _keepalives.get(thread)
    if keepalive is None or not keepalive.serves(hub):
        keepalive = _keepalives[thread] = _KeepAlive(hub)
    return keepalive


class HubKeepAlive:
    """Keeps the calling thread's hub alive while work it submitted to another thread is out.

    Patched, a greenlet waiting on a ``concurrent.futures`` future that
    another OS thread completes waits on a gevent lock; with nothing else
    pending in the hub, gevent ends that wait with ``LoopExit`` (gevent
    #2124). A ref'd async watcher, started while work is out, keeps the loop
    alive. Create it and call `hold()` in the hub's thread;
    `release()` from any thread. Both are called with *lock* held (the
    owner's lock, which also guards the count).
    """

    __slots__ = ('_lock', '_started', '_watcher', 'count')

    def __init__(self, lock: LockType) -> None:
        self.count = 0
        self._lock = lock
        self._watcher = gevent.get_hub().loop.async_()
        self._started = False

    def hold(self) -> None:
        # In the hub's thread, under the lock.
        self.count += 1
        if not self._started:
            self._started = True
            self._watcher.start(self._settle)

    def release(self) -> None:
        # Any thread, under the lock: the hub itself stops the watcher.
        self.count -= 1
        if not self.count:
            self._watcher.send()

    def _settle(self) -> None:
        # In the hub.
        with self._lock:
            if not self.count and self._started:
                self._started = False
                self._watcher.stop()



class _GreenletWaiter:
    """Parks a greenlet; the notifier switches it back through a loop callback
    of its hub (thread-safe when the notifier runs in another thread)."""

    __slots__ = ('_fired', '_hub', '_thread', '_waiter')

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._thread = real_thread_id()
        self._waiter = HubWaiter(hub)
        self._fired = False

    def notify(self) -> None:
        if real_thread_id() == self._thread:
            self._hub.loop.run_callback(self._fire)
        else:
            self._hub.loop.run_callback_threadsafe(self._fire)

    def _fire(self) -> None:
        # In the waiter's hub.
        if not self._fired:
            self._fired = True
            self._waiter.switch(True)

    def _expire(self) -> None:
        if not self._fired:
            self._fired = True
            self._waiter.switch(False)

    def wait(self, timeout: float | None) -> None:
        keepalive = _keepalive_for(self._hub)
        keepalive.hold()
        timer = None
        try:
            if timeout is not None:
                timer = self._hub.loop.timer(timeout)
                timer.start(self._expire)
            self._waiter.get()
        finally:
            self._fired = True  # a late notify must not switch into a greenlet moving on
            if timer is not None:
                timer.close()
            keepalive.release()

    def close(self) -> None:
        pass


class HubCallback:
    """``func(arg)``, called once in the hub of the thread that created this.

    Create it in a greenlet of the hub that is to run *func* (a hub is made
    for a plain thread that has none). `fire()` may be called from any
    thread and never blocks; *func* then runs in a callback of that hub, so
    it must not block either (a gevent ``rawlink`` callback, such as the
    switch of a ``gevent.wait``, is the intended use). While armed, the hub's
    loop is kept alive, so a greenlet waiting only for this never gets
    ``LoopExit``. `cancel()` (owning thread only) disarms it.
    """

    __slots__ = ('_done', '_func', '_hub', '_keepalive', '_thread')

    def __init__(self, func: Callable[[Any], object]) -> None:
        self._func = func
        self._hub = gevent.get_hub()
        self._thread = real_thread_id()
        self._keepalive = _keepalive_for(self._hub)
        self._keepalive.hold()
        self._done = False

    @property
    def func(self) -> Callable[[Any], object]:
        """The function this calls."""
        return self._func

    @property
    def owner_thread(self) -> int:
        """The id of the OS thread whose hub runs the function."""
        return self._thread

    def fire(self, arg: object) -> None:
        """Schedule ``func(arg)`` in the owning hub. Any thread; never blocks."""
        if real_thread_id() == self._thread:
            self._hub.loop.run_callback(self._call, arg)
        else:
            self._hub.loop.run_callback_threadsafe(self._call, arg)

    def _call(self, arg: object) -> None:
        # In the owning hub, so no lock: cancel() runs in this thread too.
        if self._done:
            return
        self._done = True
        self._keepalive.release()
        try:
            self._func(arg)
        except BaseException:  # the hub's own greenlet must survive any callback
            logger.exception('callback %r failed', self._func)

    def cancel(self) -> None:
        """Disarm: *func* will not be called. Owning thread only; never blocks."""
        if not self._done:
            self._done = True
            self._keepalive.release()


def _make_waiter() -> _ThreadWaiter | _GreenletWaiter:
    hub = get_hub_if_exists()
    if hub is None:
        return _ThreadWaiter()
    if getcurrent() is hub:
        raise RuntimeError('cannot wait inside the gevent hub itself; wait in a greenlet')
    return _GreenletWaiter(hub)


class Latch:
    """A one-shot flag: set once from any thread, waited on from anywhere.

    `wait()` parks the calling greenlet when the calling thread runs a
    gevent hub, and blocks the calling OS thread otherwise.
    """

    __slots__ = ('_is_set', '_waiters')

    def __init__(self) -> None:
        self._is_set = False
        self._waiters: list[_ThreadWaiter | _GreenletWaiter] | None = None

    def is_set(self) -> bool:
        """True once `set()` was called. Never blocks."""
        return self._is_set

    def set(self) -> bool:
        """Set the flag and wake every waiter; False if it was already set.

        May be called from any thread or greenlet; never blocks.
        """
        with state_lock:
            if self._is_set:
                return False
            self._is_set = True
            waiters, self._waiters = self._waiters, None
            if waiters:
                for waiter in waiters:
                    waiter.notify()
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the flag is set or *timeout* seconds pass; return the flag.

        Blocks: cooperatively in a greenlet, or the calling OS thread.
        """
        if self._is_set:
            return True
        if timeout is not None:
            if timeout <= 0:
                return False
            if timeout == _INF:
                timeout = None  # lock.acquire(timeout=inf) raises OverflowError
        waiter = _make_waiter()
        try:
            with state_lock:
                if self._is_set:
                    return True
                if self._waiters is None:
                    self._waiters = []
                self._waiters.append(waiter)
            try:
                waiter.wait(timeout)
            finally:
                with state_lock:
                    if self._waiters is not None and waiter in self._waiters:
                        self._waiters.remove(waiter)
        finally:
            waiter.close()
        return self._is_set


def call_in_hub(hub: Hub, func: Callable[..., object], *args: object) -> None:
    """Run ``func(*args)`` soon in *hub*'s thread, as a loop callback.

    Any thread; never blocks. Raises when the hub's loop is destroyed.
    """
    hub.loop.run_callback_threadsafe(func, *args)


def wait_future(future: concurrent.futures.Future[T], timeout: float | None = None) -> bool:
    """Wait until a ``concurrent.futures`` future is done; return whether it is.

    Its done-callback (run in whichever thread completes it) sets a
    `Latch`: the wait parks a greenlet, or blocks an OS thread that
    runs no hub, and never polls.
    """
    done = Latch()
    future.add_done_callback(lambda _: done.set())
    return done.wait(timeout)

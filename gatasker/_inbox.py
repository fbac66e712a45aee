"""`Inbox`: messages for one greenlet of one hub, appended from any thread.

Part of the thread bridge: `gatasker._bridge` re-exports it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import gevent
from greenlet import getcurrent
from greenlet import greenlet as RawGreenlet

from ._threads import real_thread_id

#: What an inbox carries: a function and its arguments, called by the owner.
Message = tuple[Callable[..., object], tuple[Any, ...]]


class _Discard(deque[Message]):
    """A deque that stays empty: what an abandoned `Inbox` appends to."""

    def append(self, item: Message) -> None:
        pass


class Inbox:
    """Messages for one greenlet of one hub, appended from any thread.

    Must be created in the hub's thread. `put()` may be called from any
    thread or greenlet and never blocks; `take()` is called only by the
    owning greenlet and parks it until there is something to take.
    """

    __slots__ = ('_closed', '_hub', '_items', '_sleeper', '_thread_id', '_watcher')

    def __init__(self) -> None:
        self._items: deque[Message] = deque()
        self._hub = gevent.get_hub()
        self._thread_id = real_thread_id()
        self._watcher = self._hub.loop.async_()  # ref'd: keeps the loop alive
        self._watcher.start(self._wake)
        self._sleeper: RawGreenlet | None = None
        self._closed = False

    def in_owner_thread(self) -> bool:
        """True when called from the OS thread of the hub that owns this inbox."""
        return real_thread_id() == self._thread_id

    def put(self, item: Message) -> None:
        """Append *item* and wake the owner. Any thread; never blocks."""
        self._items.append(item)
        if real_thread_id() == self._thread_id:
            sleeper = self._sleeper
            if sleeper is not None:
                self._sleeper = None
                self._hub.loop.run_callback(sleeper.switch)
        elif not self._closed:
            self._watcher.send()

    def _wake(self) -> None:
        sleeper, self._sleeper = self._sleeper, None
        if sleeper is not None:
            sleeper.switch()

    def take(self) -> deque[Message]:
        """Park until there are items, then return the deque to pop them from.

        Only the owning greenlet calls this; it blocks that greenlet
        cooperatively.
        """
        items = self._items
        while not items:
            self._sleeper = getcurrent()
            try:
                self._hub.switch()
            finally:
                self._sleeper = None
        return items

    @property
    def closed(self) -> bool:
        """True once `close()` was called. Any thread; never blocks."""
        return self._closed

    def leftovers(self) -> Iterator[Message]:
        """Take the items appended and never taken. Any thread, once closed; never blocks."""
        items = self._items
        while True:
            try:
                yield items.popleft()
            except IndexError:
                return

    def abandon(self) -> None:
        """In a forked child: drop every item, now and later, and wake nobody.

        The owner of an inbox inherited through a fork belongs to the parent:
        it must handle nothing here (a greenlet of it may survive the fork in
        the forking thread's hub, and then stays parked).
        """
        self._items.clear()
        self._items = _Discard()
        self._sleeper = None
        self._closed = True

    def close(self) -> None:
        """Stop the wake-up watcher (owning thread only); the loop may then exit."""
        if not self._closed:
            self._closed = True
            self._watcher.stop()
            self._watcher.close()

"""The hub watchdog: notices a greenlet that keeps its hub from running.

A greenlet that runs CPU-bound or blocking code without yielding stops
everything else in its hub. A real OS thread posts a callback into the hub
every ``threshold / 2`` seconds and measures how long it waits to run: that
is the hub's lag. When the callback has not run within ``threshold``, the
watchdog logs the stack of whatever the hub's thread runs at that moment,
once per incident (the incident ends when the callback finally runs).

gevent's own ``monitor_thread``/``max_blocking_time`` was considered: it
traces every greenlet switch of the process with ``greenlet.settrace`` (a
cost on the hot path), is configured process-wide before the hub exists,
reports to ``hub.exception_stream`` rather than the ``gatasker`` logger,
and keeps no lag figures. One callback per interval costs next to nothing.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections import deque
from typing import TYPE_CHECKING

from gevent.hub import Hub

from ._bridge import Latch, allocate_lock, call_in_hub, start_real_thread
from ._logging import logger
from ._statistics import HubStatistics

if TYPE_CHECKING:
    from _thread import LockType

#: How many recent lag samples the percentile is computed from.
SAMPLES = 1024


class HubWatchdog:
    """Watches one hub from a daemon OS thread until `close()`.

    *thread_id* is the real id of the hub's OS thread; *name* names the
    supervisor in log messages.
    """

    def __init__(self, hub: Hub, thread_id: int, threshold: float, name: str) -> None:
        self.threshold = threshold
        self.incidents = 0
        self.last_stack: str | None = None
        self._hub = hub
        self._thread_id = thread_id
        self._name = name
        self._lags: deque[float] = deque(maxlen=SAMPLES)
        self._closed = Latch()
        self._exited = Latch()
        self._pong: LockType | None = None

    def start(self) -> None:
        """Start watching. Any thread; never blocks."""
        start_real_thread(self._watch, f'supervisor_{self._name}_watchdog')

    def close(self) -> None:
        """Stop watching; return once the watching thread ended (a few ms).

        Any thread or greenlet (cooperative there).
        """
        self._closed.set()
        self._release(self._pong)
        self._exited.wait(1.0)

    def statistics(self) -> HubStatistics:
        """A snapshot of lag and incidents. Any thread; never blocks."""
        lags = sorted(self._lags)
        return HubStatistics(
            threshold=self.threshold,
            lag_p99=lags[int(0.99 * (len(lags) - 1))] if lags else None,
            lag_max=lags[-1] if lags else None,
            incidents=self.incidents,
            samples=len(lags),
            last_stack=self.last_stack,
        )

    # -- the watching thread ---------------------------------------------------------

    def _watch(self) -> None:
        interval = min(max(self.threshold / 2, 0.001), 1.0)
        try:
            while not self._closed.wait(interval):
                pong = self._pong = allocate_lock()
                pong.acquire()
                try:
                    call_in_hub(self._hub, self._answer, pong, time.monotonic())
                except Exception:  # the hub is gone: nothing left to watch
                    logger.debug('supervisor %s: the hub watchdog ends, its hub is gone',
                                 self._name, exc_info=True)
                    return
                if pong.acquire(True, self.threshold) or self._closed.is_set():
                    continue
                self._report()
                pong.acquire()  # the incident lasts until the hub answers (or close())
        finally:
            self._exited.set()

    def _answer(self, pong: LockType, sent: float) -> None:
        # Runs in the hub: the time since `sent` is how long the hub was busy.
        self._lags.append(time.monotonic() - sent)
        self._release(pong)

    @staticmethod
    def _release(pong: LockType | None) -> None:
        try:
            if pong is not None:
                pong.release()
        except RuntimeError:  # released already (answered and closed at once)
            pass

    def _report(self) -> None:
        frame = sys._current_frames().get(self._thread_id)
        stack = ''.join(traceback.format_stack(frame)) if frame is not None else '(unknown)\n'
        self.incidents += 1
        self.last_stack = stack
        logger.warning('supervisor %s: a greenlet has blocked the hub for more than %.3f s '
                       '(it has not yielded); it runs:\n%s', self._name, self.threshold,
                       stack.rstrip('\n'))

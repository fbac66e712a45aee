"""The queue worker: one run of the executor per queued item."""

from __future__ import annotations

import asyncio
import queue as std_queue
from typing import TYPE_CHECKING

import gevent.queue

from . import _tracing
from ._envelope import Envelope
from ._logging import logger
from ._mailbox import HeapMailbox, Mailbox
from ._worker import BackgroundWorker
from ._worker_types import DONE, Done, Executor

if TYPE_CHECKING:  # annotations only
    from typing_extensions import Unpack

    from ._worker_types import WorkerOptions


class BackgroundQueueWorker(BackgroundWorker):
    """Runs the executor once per item: ``tell(item)``, ``put(item)`` and
    ``put_threadsafe(item)`` are the same thing, from any thread.

    ``q=True`` keeps FIFO order; ``q=<a priority queue class>`` (the stdlib's,
    asyncio's or gevent's ``PriorityQueue``) serves the smallest item first.
    The executor gets the item as its first argument. Items still queued at
    ``stop()`` are run first with ``stop(drain=True)``; otherwise their count is
    logged.
    """

    def __init__(self, name: str | None = None, func: Executor | None = None, *,
                 q: bool | type | None = True, queue: bool | type | None = None,
                 **kwargs: Unpack[WorkerOptions]) -> None:
        """Configure the worker; it runs after `start`.

        Args:
            name: The worker's name (default: the executor's ``__name__``).
            func: The executor; it gets the item as its first argument.
            q: True (FIFO) or a ``PriorityQueue`` class (smallest item first).
            queue: atasker's name for *q*.
            **kwargs: The other arguments of `BackgroundWorker`.

        Raises:
            TypeError: *q* is neither True nor a class, or as `BackgroundWorker`.
        """
        kind = queue if queue is not None else q
        self._queue_kind = kind
        mailbox: type = Mailbox
        if isinstance(kind, type) and issubclass(kind, _PRIORITY_QUEUES):
            mailbox = HeapMailbox
        elif not (kind is True or kind is None or isinstance(kind, type)):
            raise TypeError(f'q must be True or a queue class, got {kind!r}')
        self.__dict__['mailbox_class'] = mailbox  # per worker: a queue kind may differ
        super().__init__(name, func, **kwargs)

    def _has_work(self) -> bool:
        return bool(self._actor.mailbox)

    def _do_work(self) -> None:
        item = self._actor.mailbox.pop()
        self._actor.took()
        if type(item) is Envelope:  # a traced message (a worker is never asked)
            if item.context is not None and _tracing.tracer is not None:
                with _tracing.tracer.message_handling(self, item.context):
                    self._execute((item.message,))
                return
            item = item.message
        self._execute((item,))

    def put(self, item: object) -> Done:
        """Queue *item*. Any thread or greenlet; never blocks.

        Returns:
            An awaitable that is already done, so that atasker's
            ``await worker.put(item)`` works too.

        Raises:
            ActorNotRunning: The worker does not run.
        """
        self.tell(item)
        return DONE

    put_threadsafe = put

    def _not_run(self, leading: tuple[object, ...]) -> None:
        # The item left the mailbox but its run was canceled: report it with the rest.
        self._actor.dropped += 1

    def _drop_leftovers(self) -> None:
        if self._actor.dropped:
            logger.warning('queue worker %s stopped with %d queued item(s) not run',
                           self.name, self._actor.dropped)
            self._actor.dropped = 0


_PRIORITY_QUEUES = (std_queue.PriorityQueue, asyncio.PriorityQueue, gevent.queue.PriorityQueue)

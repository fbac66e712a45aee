"""Task ids that stay unique across processes and hosts.

An id is ``'<prefix>-<n>'``: *prefix* is 16 random hex digits drawn once per
process (and again in the child after ``os.fork()``), *n* counts up from 1.
Two processes (two gunicorn workers, two hosts) therefore never hand out the
same id, while making one costs only a counter step and a string format (a
``uuid4()`` per task would read the OS's random source every time).
"""

from __future__ import annotations

import itertools
import os
import secrets

_prefix = ''
_counter = itertools.count(1)


def redraw() -> None:
    """Draw a new prefix and restart the counter (in a forked child)."""
    global _prefix, _counter
    _prefix = secrets.token_hex(8)
    _counter = itertools.count(1)


def new_task_id() -> str:
    """A fresh task id, unique across processes. Any thread; never blocks."""
    return f'{_prefix}-{next(_counter)}'


def process_prefix() -> str:
    """The prefix of the ids this process hands out (changes after a fork)."""
    return _prefix


redraw()
# A forked child must not repeat its parent's ids.
os.register_at_fork(after_in_child=redraw)

"""The ``gatasker`` logger and the debug switch."""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger('gatasker')

#: True while `set_debug()` has debug logging on. Read as a module attribute
#: (``_logging.debugging``) on the task path: one load, no call per task step.
debugging = False


def set_debug(mode: bool = True) -> None:
    """Turn debug logging of task and worker life cycles on or off.

    With debug on, the ``gatasker`` logger is set to DEBUG and the library
    logs a line when a task is queued, started and completed and when a
    worker starts and stops. Nothing is printed unless the application has
    configured logging. May be called from any thread.
    """
    global debugging
    debugging = bool(mode)
    logger.setLevel(logging.DEBUG if debugging else logging.NOTSET)


def is_debug() -> bool:
    """Return True when `set_debug()` turned debug logging on."""
    return debugging


def call_logged(what: str, func: Callable[..., object], *args: object) -> None:
    """Call ``func(*args)``; log an exception as ``<what> failed`` with its traceback.

    BaseExceptions too (``sys.exit()``, KeyboardInterrupt, GreenletExit,
    gevent.Timeout): escaping a greenlet of the hub, gevent would throw the
    first two into the hub thread's main greenlet, the supervisor's mailbox.
    """
    try:
        func(*args)
    except BaseException:  # a user hook's failure ends only that call
        logger.exception(what + ' failed', func)

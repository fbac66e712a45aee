"""Real OS threads, also when gevent has monkey-patched ``threading``.

The original ``_thread`` functions (a patched ``threading.Thread`` is a
greenlet), the calling OS thread's id and name, and starting a daemon OS
thread. Part of the thread bridge: `gatasker._bridge` re-exports these.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import gevent
from gevent import monkey
from gevent._hub_local import get_hub_if_exists

if TYPE_CHECKING:  # the stdlib's own, as typeshed types them
    from _thread import allocate_lock as allocate_lock
    from _thread import get_ident, start_new_thread
    from queue import SimpleQueue

    real_thread_id = get_ident
    _start_new_thread = start_new_thread
    ThreadQueue = SimpleQueue
else:
    allocate_lock = monkey.get_original('_thread', 'allocate_lock')
    _start_new_thread = monkey.get_original('_thread', 'start_new_thread')
    real_thread_id = monkey.get_original('_thread', 'get_ident')
    ThreadQueue = monkey.get_original('_queue', 'SimpleQueue')

# The originals, also when threading is patched: allocate_lock() is a real OS
# lock; real_thread_id() the id of the calling OS thread; ThreadQueue[T]() an
# unpatched C queue for handing work to real OS threads (put() never blocks,
# get() blocks only the OS thread that calls it).


def threading_is_patched() -> bool:
    """True when gevent has monkey-patched ``threading`` in this process."""
    return bool(monkey.is_module_patched('threading'))


_thread_names: dict[int, str] = {}


def real_thread_name() -> str:
    """The name of the calling OS thread, also inside a greenlet of a patched process.

    Threads gatasker started carry their names; others are ``thread-<id>``.
    """
    ident = real_thread_id()
    return _thread_names.get(ident) or f'thread-{ident}'


_main_thread_id: int | None = None
if threading.current_thread() is threading.main_thread():
    _main_thread_id = real_thread_id()
    _thread_names[_main_thread_id] = 'MainThread'


def in_main_thread() -> bool:
    """True in the process's main OS thread (also inside its greenlets)."""
    return _main_thread_id is None or real_thread_id() == _main_thread_id


def destroy_thread_hub() -> None:
    """Destroy the calling thread's gevent hub and loop, if it has one.

    Called by a thread gatasker started, as its last act: a hub left behind
    keeps its loop's file descriptors open for the life of the process.
    """
    hub = get_hub_if_exists()
    if hub is not None:
        hub.destroy(destroy_loop=True)


def start_real_thread(target: Callable[[], None], name: str) -> None:
    """Run *target* in a new daemon OS thread named *name*, also when patched.

    Under ``patch_all()`` a ``threading.Thread`` is a greenlet, so the thread
    is started with the original ``_thread.start_new_thread``. Load gevent's
    loop implementation first, so two threads never import it at once.
    """
    _ = gevent.config.loop  # imports the loop module in this thread
    def boot() -> None:
        # Under patching, threading names greenlets: this names the root one.
        threading.current_thread().name = name
        _thread_names[real_thread_id()] = name
        try:
            target()
        finally:
            _thread_names.pop(real_thread_id(), None)

    if threading_is_patched():
        _start_new_thread(boot, ())
    else:
        threading.Thread(target=boot, name=name, daemon=True).start()

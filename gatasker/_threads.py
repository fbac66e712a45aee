"""Real OS threads, also when gevent has monkey-patched ``threading``.

The original ``_thread`` functions (a patched ``threading.Thread`` is a
greenlet), the calling OS thread's id and name, and starting a daemon OS
thread. Part of the thread bridge: `gatasker._bridge` re-exports these.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import gevent
from gevent import monkey
from gevent._hub_local import get_hub_if_exists

allocate_lock: Callable[[], Any] = monkey.get_original('_thread', 'allocate_lock')
_start_new_thread: Callable[..., int] = monkey.get_original('_thread', 'start_new_thread')
#: The id of the calling OS thread, also when ``threading`` is patched.
real_thread_id: Callable[[], int] = monkey.get_original('_thread', 'get_ident')
#: An unpatched C queue for handing work to real OS threads: ``put`` never
#: blocks, ``get`` blocks only the OS thread that calls it.
ThreadQueue: Any = monkey.get_original('_queue', 'SimpleQueue')


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

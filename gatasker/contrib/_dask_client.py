"""The dask client behind `gatasker.contrib.dask.DaskExecutor`: where it lives, what it offers.

A client the executor connects itself lives on an asyncio loop in one real OS
thread per process, ``gatasker_dask``: under ``patch_all()`` dask's own loop
thread would be a greenlet, and a client created there silently turns
asynchronous.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import platform
from collections.abc import Awaitable, Callable
from typing import Protocol, cast

import distributed  # gatasker.contrib.dask says how to install it when it is missing
import distributed.utils

from .._aloop import ALoop
from .._bridge import allocate_lock, in_main_thread, threading_is_patched

__all__ = ['AsyncClient', 'IOLoop', 'connect_client']


class IOLoop(Protocol):
    """The part of the client's event loop (tornado's ``IOLoop``) used here."""

    @property
    def asyncio_loop(self) -> asyncio.AbstractEventLoop: ...

    def add_callback(self, callback: Callable[[], None]) -> None: ...


class AsyncClient(Protocol):
    """The part of a ``distributed.Client`` used here, typed as it behaves when
    called on its own loop, where its methods return awaitables (distributed
    types its sync-or-async methods for neither case)."""

    @property
    def status(self) -> str: ...

    @property
    def loop(self) -> IOLoop: ...

    def submit(self, func: Callable[[], object], *, key: str, pure: bool,
               priority: int) -> Awaitable[object]: ...

    def cancel(self, futures: list[Awaitable[object]]) -> Awaitable[object]: ...

    def close(self) -> Awaitable[object]: ...


class _ClientLoop(ALoop):
    """The aloop hosting the executors' own clients: one per process, no supervisor's."""

    @property
    def thread_name(self) -> str:
        return 'gatasker_dask'


async def _give_distributed_an_offload_pool() -> None:
    # distributed hands big (de)serialisations to a thread pool made when it was imported.
    # Patched, that pool's threads are greenlets and its queue belongs to the hub of the
    # importing thread, so it cannot serve the client's: give it a pool born in that thread.
    distributed.utils._offload_executor = concurrent.futures.ThreadPoolExecutor(
        1, thread_name_prefix='Dask-Offload')


_host: tuple[int, ALoop] | None = None
_host_lock = allocate_lock()


def _get_host() -> ALoop:
    """The process's client loop, started on first use (and again in a forked child)."""
    global _host
    with _host_lock:
        if _host is None or _host[0] != os.getpid():
            aloop = _ClientLoop('dask', None)
            aloop.start()
            if threading_is_patched():
                aloop.run(_give_distributed_an_offload_pool())
            _host = (os.getpid(), aloop)
        return _host[1]


def _learn_processor_name() -> None:
    # dask's handshake reports platform.uname().processor, which the first time runs `uname -p`.
    # gevent's patched subprocess works only in the main thread (child watchers live on the
    # default loop), so ask here, or record it as unknown ('') when this is not the main thread.
    uname = platform.uname()
    if 'processor' in vars(uname):
        return
    if in_main_thread():
        _ = uname.processor
    else:
        vars(uname)['processor'] = ''


def connect_client(address: str, client_kwargs: dict[str, object]) -> AsyncClient:
    """Connect a client to the scheduler at *address* on the process's client loop
    (``set_as_default`` False unless *client_kwargs* say otherwise). Blocks the
    caller (cooperatively in a greenlet) until it is connected."""
    if threading_is_patched():
        _learn_processor_name()
    host = _get_host()
    client_kwargs.setdefault('set_as_default', False)

    async def connect() -> AsyncClient:
        # Awaiting an asynchronous Client connects it and gives the client itself.
        make_client: Callable[..., Awaitable[object]] = distributed.Client
        return cast(AsyncClient, await make_client(address, asynchronous=True, **client_kwargs))

    return host.run(connect())

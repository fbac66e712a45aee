"""The inspect endpoint and its client, for ``python -m gatasker inspect``.

An application opts in with ``supervisor.serve_inspect(address)``. A daemon
OS thread then accepts connections on a loopback TCP port or a unix socket
and answers each with one JSON document (a line) of every running
supervisor's `statistics()`, then closes. The thread
uses the unpatched ``socket`` module and never enters a hub, so it answers
also while a greenlet blocks the hub: that is when one wants to look.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import stat
import time
from collections.abc import Callable
from typing import Any

from gevent import monkey

from ._bridge import Latch, start_real_thread
from ._constants import TASK_CRITICAL, TASK_HIGH, TASK_LOW, TASK_NORMAL
from ._logging import logger
from ._statistics import HistogramSnapshot, SupervisorStatistics

# The unpatched socket class: the endpoint's thread is a real OS thread.
_socket: type[socket.socket] = monkey.get_original('socket', 'socket')

LOOPBACK = frozenset({'127.0.0.1', 'localhost', '::1'})
PRIORITY_NAMES = {TASK_CRITICAL: 'C', TASK_HIGH: 'H', TASK_NORMAL: 'N', TASK_LOW: 'L'}

Address = str | tuple[str, int]


def parse_address(address: object) -> tuple[int, Any]:
    """``(family, sockaddr)`` for *address*; TypeError/ValueError when it is not usable.

    A ``(host, port)`` tuple or a ``'host:port'`` string is TCP on loopback
    only (``127.0.0.1``, ``localhost`` or ``::1``; port 0 picks a free one);
    any other string, or an ``os.PathLike``, is the path of a unix socket.
    """
    if isinstance(address, os.PathLike):
        address = os.fspath(address)
    if isinstance(address, str):
        if not address:
            raise ValueError('the address must not be empty')
        host, sep, port = address.rpartition(':')
        if not sep or os.sep in address or not port.isdigit():
            return socket.AF_UNIX, address
        address = (host.strip('[]'), int(port))
    if not (isinstance(address, tuple) and len(address) == 2 and isinstance(address[0], str)
            and isinstance(address[1], int) and not isinstance(address[1], bool)):
        raise TypeError(f"address must be (host, port), 'host:port' or a unix socket path, "
                        f'got {address!r}')
    host, port = address
    if host not in LOOPBACK:
        raise ValueError(f'the inspect endpoint listens on loopback only, got host {host!r}')
    if not 0 <= port <= 65535:
        raise ValueError(f'port must be 0..65535, got {port!r}')
    family = socket.AF_INET6 if host == '::1' else socket.AF_INET
    return family, ('127.0.0.1' if host == 'localhost' else host, port)


def to_jsonable(stats: SupervisorStatistics) -> dict[str, Any]:
    """A SupervisorStatistics as plain JSON data (priorities become string keys)."""
    data: dict[str, Any] = dataclasses.asdict(stats)
    data['id'] = str(stats.id)
    return data


class InspectServer:
    """Serves ``snapshot()`` as one JSON line per connection, from an OS thread.

    Created by ``TaskSupervisor.serve_inspect``; binds at once (raising
    OSError there, e.g. when the address is in use).
    """

    def __init__(self, address: object, snapshot: Callable[[], dict[str, Any]],
                 name: str) -> None:
        family, sockaddr = parse_address(address)
        self._snapshot = snapshot
        self._path = sockaddr if family == socket.AF_UNIX else None
        sock = _socket(family, socket.SOCK_STREAM)
        try:
            if self._path is not None:
                _remove_stale_socket(self._path)
            else:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(sockaddr)
            sock.listen(16)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        #: Where the endpoint listens: ``(host, port)`` or the socket's path.
        self.address: Address = self._path if self._path is not None else sock.getsockname()[:2]
        self._exited = Latch()
        start_real_thread(self._serve, f'supervisor_{name}_inspect')

    def close(self) -> None:
        """Stop serving and remove a unix socket file. Any thread; returns once
        the serving thread ended (bounded)."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self._sock.close()
        self._exited.wait(5.0)
        if self._path is not None:
            try:
                os.unlink(self._path)
            except OSError:
                pass

    def _serve(self) -> None:
        try:
            while True:
                try:
                    conn, _ = self._sock.accept()
                except OSError:
                    return  # closed
                with conn:
                    try:
                        conn.settimeout(5.0)
                        conn.sendall(json.dumps(self._snapshot(), default=str).encode() + b'\n')
                    except Exception:
                        logger.exception('inspect endpoint %s: answering failed', self.address)
        finally:
            self._exited.set()


def _remove_stale_socket(path: str) -> None:
    # A socket file left by a process that died is in the way; anything else is not ours.
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise FileExistsError(f'{path!r} exists and is not a socket')
    probe = _socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)
    else:
        raise OSError(f'another process serves on {path!r}')
    finally:
        probe.close()


# -- the client ---------------------------------------------------------------------------

def fetch(address: object, timeout: float = 5.0) -> dict[str, Any]:
    """Connect to an inspect endpoint and return its snapshot. Blocks."""
    family, sockaddr = parse_address(address)
    with _socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    data: dict[str, Any] = json.loads(b''.join(chunks))
    return data


def _ms(seconds: float | None) -> str:
    return '-' if seconds is None else f'{seconds * 1000:.1f} ms'


def _quantile(histogram: dict[str, Any], q: float) -> float | None:
    return HistogramSnapshot(tuple(histogram['bounds']), tuple(histogram['counts']),
                             histogram['sum']).quantile(q)


def render(data: dict[str, Any]) -> str:
    """The text view of a snapshot: per supervisor its tiers per priority,
    actors and workers, process pool and hub lag."""
    when = time.strftime('%H:%M:%S', time.localtime(data.get('time', time.time())))
    lines = [f"gatasker {data.get('version', '?')}  pid {data.get('pid', '?')}  {when}"]
    for sup in data.get('supervisors', []):
        lines.append('')
        head = (f"supervisor {sup['id']}  {sup['state']}  {sup['mode'] or '-'}  "
                f"tasks {sup['tasks']}  actors {sup['actors']}  workers {sup['workers']}  "
                f"aloops {sup['aloops']}")
        hub = sup.get('hub')
        if hub is not None:
            head += (f"  hub lag p99 {_ms(hub['lag_p99'])} max {_ms(hub['lag_max'])}  "
                     f"incidents {hub['incidents']}")
        lines.append(head)
        lines.append(f"  {'tier':9} {'pri':3} {'size':>11} {'running':>7} {'queued':>6} "
                     f"{'done':>7} {'failed':>6} {'cancel':>6} {'wait p99':>10} "
                     f"{'run p99':>10}")
        for tier in sup['tiers'].values():
            sizes = f"{tier['pool_size']}+{tier['reserve_normal']}+{tier['reserve_high']}"
            for key, pri in sorted(tier['priorities'].items(), key=lambda kv: int(kv[0])):
                if not (pri['running'] or pri['queued'] or pri['completed']
                        or pri['cancelled']):
                    continue
                lines.append(
                    f"  {tier['name']:9} {PRIORITY_NAMES.get(int(key), key):3} {sizes:>11} "
                    f"{pri['running']:7} {pri['queued']:6} {pri['completed']:7} "
                    f"{pri['failed']:6} {pri['cancelled']:6} "
                    f"{_ms(_quantile(pri['queue_wait'], 0.99)):>10} "
                    f"{_ms(_quantile(pri['run_time'], 0.99)):>10}")
        pool = sup.get('process_pool')
        if pool is not None:
            lines.append(f"  process pool: {pool['alive']}/{pool['processes']} alive, "
                         f"{pool['replaced']} replaced")
        actors = sup.get('actor_statistics') or []
        if actors:
            lines.append(f"  {'actor/worker':30} {'kind':6} {'mailbox':>7} {'handled':>8} "
                         f"{'failed':>6} {'restarts':>8}")
            for actor in actors:
                lines.append(f"  {actor['name'][:30]:30} {actor['kind']:6} "
                             f"{actor['mailbox']:7} {actor['handled']:8} {actor['failed']:6} "
                             f"{actor.get('restarts', 0):8}")
    return '\n'.join(lines)

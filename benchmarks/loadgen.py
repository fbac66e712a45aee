"""``python -m benchmarks.loadgen PORT REQUESTS CONNECTIONS``: a bounded HTTP load.

CONNECTIONS keep-alive connections to 127.0.0.1:PORT each send one GET at a
time until REQUESTS were answered; prints ``{"rate": requests/s, "p99": ms}``.
Runs in its own monkey-patched process so that it does not share the
server's hub (it still shares the machine's cores).
"""

from __future__ import annotations

if __name__ == '__main__':
    from gevent import monkey

    monkey.patch_all()

import json
import socket
import sys
import time

REQUEST = b'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'


def _read_response(sock: socket.socket, buf: bytes) -> bytes:
    """Read one response with a Content-Length body; return what came after it."""
    while b'\r\n\r\n' not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError('the server closed the connection')
        buf += chunk
    head, _, rest = buf.partition(b'\r\n\r\n')
    if not head.startswith(b'HTTP/1.1 200'):
        raise ConnectionError(f'unexpected response: {head[:40]!r}')
    length = 0
    for line in head.split(b'\r\n')[1:]:
        name, _, value = line.partition(b':')
        if name.strip().lower() == b'content-length':
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError('the server closed the connection')
        rest += chunk
    return rest[length:]


def main() -> None:
    import gevent
    port, total, connections = (int(arg) for arg in sys.argv[1:4])
    latencies: list[float] = []
    left = [total]

    def client() -> None:
        with socket.create_connection(('127.0.0.1', port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buf = b''
            while left[0] > 0:
                left[0] -= 1
                sent = time.perf_counter()
                sock.sendall(REQUEST)
                buf = _read_response(sock, buf)
                latencies.append(time.perf_counter() - sent)

    started = time.perf_counter()
    gevent.joinall([gevent.spawn(client) for _ in range(connections)], raise_error=True)
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(json.dumps({'rate': len(latencies) / elapsed, 'p99': p99 * 1000}), flush=True)


if __name__ == '__main__':
    main()

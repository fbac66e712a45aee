"""The pool's end of the socket to one worker process: length-prefixed frames.

A frame is an 8-byte big-endian length and that many bytes (see
`gatasker._process_child`). The socket is a gevent socket read and written by
greenlets of the supervisor's hub, so a 1 MiB argument or result never blocks
the hub, in either runtime mode.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import gevent
import gevent.socket

from ._process_child import HEADER

_SMALL = 64 * 1024  # frames up to this size are sent in one piece
_CHUNK = 256 * 1024  # how much the reader asks for at a time
#: A big frame is read in slices of this size, yielding to the hub between
#: them: while the process writes faster than the reader reads, the socket
#: stays readable and a gevent socket never yields by itself.
SLICE = 1024 * 1024


def _yield_to_hub() -> None:
    """Let every other greenlet of the hub run once (between slices of a big frame)."""
    gevent.sleep(0)


class Channel:
    """Frames to and from one worker process over the pool's end of its socket.

    Used only in the supervisor's hub, by its greenlets.
    """

    __slots__ = ('_fd', 'sock')

    def __init__(self, sock: gevent.socket.socket) -> None:
        self.sock = sock
        self._fd = sock.fileno()

    def send(self, data: bytes) -> None:
        """Send one frame (an empty one asks the process to exit).

        Tries at once without blocking and finishes in a greenlet of its own if
        the socket is full. Any greenlet of the hub; never blocks. A process
        that is gone is not an error here: the reader sees its stream end.
        """
        header = HEADER.pack(len(data))
        whole = len(data) <= _SMALL
        frame = header + data if whole else header
        try:
            sent = os.write(self._fd, frame)
        except BlockingIOError:
            sent = 0
        except OSError:
            return  # the process is gone: the reader sees the end of the stream
        if sent < len(frame) or not whole:
            rest = [memoryview(frame)[sent:]]
            if not whole:
                rest.append(memoryview(data))
            gevent.spawn(self._send_rest, rest)

    def _send_rest(self, parts: list[memoryview]) -> None:
        try:
            for part in parts:
                self.sock.sendall(part)
        except OSError:
            pass  # the process is gone: the reader sees the end of the stream

    def frames(self) -> Iterator[bytearray]:
        """The frames the process sends, until its stream ends, read in large chunks.

        An empty frame is the process saying it took its task. Blocks the
        calling greenlet (cooperatively) while nothing is there to read.
        """
        buf = bytearray()
        recv = self.sock.recv

        def fill(size: int) -> bool:
            # Read until *buf* holds *size* bytes; False at the end of the stream.
            while len(buf) < size:
                chunk = recv(_CHUNK)
                if not chunk:
                    return False
                buf.extend(chunk)
            return True

        try:
            while fill(HEADER.size):
                size = HEADER.unpack_from(buf)[0]
                end = HEADER.size + size
                if len(buf) < end and size > _CHUNK:
                    frame = self._recv_big(buf, size)  # not through the buffer
                    if frame is None:
                        return
                    yield frame
                    continue
                if not fill(end):
                    return
                frame = buf[HEADER.size:end]
                del buf[:end]
                yield frame
        except OSError:
            return

    def _recv_big(self, buf: bytearray, size: int) -> bytearray | None:
        """The rest of a big frame whose start is in *buf* (emptied), read in place."""
        frame = bytearray(size)
        have = len(buf) - HEADER.size
        frame[:have] = buf[HEADER.size:]
        buf.clear()
        view = memoryview(frame)
        pause_at = have + SLICE
        while have < size:
            count = self.sock.recv_into(view[have:])
            if not count:
                return None
            have += count
            if have >= pause_at and have < size:
                _yield_to_hub()
                pause_at = have + SLICE
        return frame

    def close(self) -> None:
        """Close the pool's end: the process sees its stream end and exits."""
        self.sock.close()

    def let_go(self) -> None:
        """In a forked child: close this copy of the socket without touching the
        gevent socket object, which belongs to the parent's hub."""
        try:
            os.close(self.sock.detach())
        except OSError:
            pass

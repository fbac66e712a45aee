"""What travels in an actor's mailbox besides the message itself.

A plain ``tell`` with no tracer installed puts the bare message in the
mailbox: nothing else travels with it, and wrapping it would cost the hot
path an allocation. Everything else travels in an `Envelope` (pykka's
``Envelope`` is the model): the message, the `Reply` a sender waits on
(``ask``, a pool's routing), and the sender's trace context.
"""

from __future__ import annotations

from typing import Protocol, cast

from ._bridge import Latch


class _Ordered(Protocol):
    def __lt__(self, other: object, /) -> object: ...


class Reply:
    """Where an ``ask`` waits for the handler's answer.

    `answer` is called once, in the actor's hub; ``latch`` is set then,
    and ``ok``/``value`` say what the handler returned (True) or raised (False).
    """

    __slots__ = ('latch', 'ok', 'value')

    def __init__(self) -> None:
        self.latch = Latch()
        self.ok = False
        self.value: object = None

    def answer(self, ok: bool, value: object) -> None:
        """Record the outcome and wake the sender. The actor's hub; never blocks."""
        self.ok, self.value = ok, value
        self.latch.set()

    def outcome(self) -> object:
        """The handler's answer, or raise what it raised. Call once ``latch`` is set."""
        if self.ok:
            return self.value
        value = self.value
        assert isinstance(value, BaseException)
        raise value


class Envelope:
    """A message with its reply (None: nobody waits) and the sender's trace
    context (None: no tracer wanted one).

    Ordered by message, so that a priority-queue worker's heap can hold
    envelopes and bare messages together.
    """

    __slots__ = ('context', 'message', 'reply')

    def __init__(self, message: object, reply: Reply | None = None,
                 context: object = None) -> None:
        self.message = message
        self.reply = reply
        self.context = context

    # A priority-queue worker's heap compares items: an envelope compares as
    # its message, also against a bare message (either side).
    def __lt__(self, other: object) -> bool:
        theirs = other.message if isinstance(other, Envelope) else other
        return bool(cast(_Ordered, self.message) < theirs)

    def __gt__(self, other: object) -> bool:
        theirs = other.message if isinstance(other, Envelope) else other
        return bool(cast(_Ordered, theirs) < self.message)

    def __eq__(self, other: object) -> bool:
        theirs = other.message if isinstance(other, Envelope) else other
        return bool(self.message == theirs)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f'Envelope({self.message!r}, reply={self.reply!r})'


def unwrap(item: object) -> object:
    """The message of a mailbox item (an Envelope or a bare message)."""
    return item.message if type(item) is Envelope else item

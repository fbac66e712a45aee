"""``g``: values local to the current greenlet (and so to the current thread)."""

from __future__ import annotations

import itertools
from contextvars import ContextVar
from typing import Any

_ids = itertools.count()


class LocalProxy:
    """A namespace whose values belong to the current greenlet.

    Every greenlet, hence every OS thread, sees its own values; each task
    starts with none, whatever ran before it on the same worker. Use
    ``get``/``set``/``has``/``clear`` or plain attributes (``g.db = ...``).
    Any thread or greenlet; never blocks.
    """

    __slots__ = ('_var',)

    _var: ContextVar[dict[str, object]]

    def __init__(self) -> None:
        object.__setattr__(self, '_var', ContextVar(f'gatasker_local_{next(_ids)}'))

    def _namespace(self) -> dict[str, object] | None:
        """The current greenlet's values; None if it set none."""
        return self._var.get(None)

    def _own_namespace(self) -> dict[str, object]:
        """The current greenlet's values, created empty if it had none."""
        namespace = self._var.get(None)
        if namespace is None:
            namespace = {}
            self._var.set(namespace)
        return namespace

    def get(self, name: str, default: object = None) -> object:
        """The value of *name* for the current greenlet.

        Args:
            name: The attribute's name.
            default: What to return when it is not set.

        Returns:
            object: The value, or *default*.
        """
        namespace = self._namespace()
        return default if namespace is None else namespace.get(name, default)

    def set(self, name: str, value: object) -> None:
        """Set *name* for the current greenlet.

        Args:
            name: The attribute's name.
            value: Its value.
        """
        self._own_namespace()[name] = value

    def has(self, name: str) -> bool:
        """Tell whether *name* is set for the current greenlet.

        Args:
            name: The attribute's name.

        Returns:
            bool: True if it is set.
        """
        namespace = self._namespace()
        return namespace is not None and name in namespace

    def clear(self, name: str | None = None) -> bool:
        """Forget *name*, or every value of the current greenlet.

        Args:
            name: The attribute's name; None forgets every value.

        Returns:
            bool: True.
        """
        namespace = self._namespace()
        if namespace is not None:
            if name is None:
                namespace.clear()
            else:
                namespace.pop(name, None)
        return True

    def __getattr__(self, name: str) -> Any:
        # Any, not object: ``g.db.cursor()`` is the point of attribute access.
        namespace = self._namespace()
        if namespace is None or name not in namespace:
            raise AttributeError(name)
        return namespace[name]

    def __setattr__(self, name: str, value: object) -> None:
        self.set(name, value)

    def __delattr__(self, name: str) -> None:
        if not self.has(name):
            raise AttributeError(name)
        self.clear(name)


#: The shared greenlet-local namespace.
g = LocalProxy()

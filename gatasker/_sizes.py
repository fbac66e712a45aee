"""The sizes of a tier: its `Limits`, the thread tier's `ThreadLimits`, and merging.

``set_thread_pool(**sizes)``, ``set_greenlet_pool(**sizes)`` and
``set_mp_pool(**sizes)`` change some sizes and keep the others
(`merge_limits`). Every check happens before the new sizes exist, so bad
input raises TypeError/ValueError and changes nothing. Pure data: any thread.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import overload

from ._admission import Limits
from ._constants import check_count

#: The keys every tier's sizes have.
POOL_KEYS = frozenset({'pool_size', 'reserve_normal', 'reserve_high'})
#: The thread tier's keys: its limits plus how many OS threads to keep.
THREAD_KEYS = POOL_KEYS | {'min_size', 'max_size'}


@dataclass(frozen=True)
class ThreadLimits(Limits):
    """The thread tier's `Limits` plus how many OS threads it keeps.

    Make one with `ThreadLimits.of`, which resolves the defaults.

    Attributes:
        min_size: OS threads kept even when idle.
        max_size: OS threads for non-critical tasks (a CRITICAL task that
            finds them all busy gets one more).
        max_follows_total: True when ``max_size`` was not set: it follows
            the limits' total (five per CPU when unlimited).
    """

    min_size: int = 0
    max_size: int = 1
    max_follows_total: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_count(self.max_size, 'max_size')
        if self.max_size < 1:  # no thread would ever run a task, and stop() would wait for them
            raise ValueError(f'max_size must be at least 1, got {self.max_size}')
        check_count(self.min_size, 'min_size')
        if self.min_size > self.max_size:
            raise ValueError(
                f'min_size ({self.min_size}) must not exceed max_size ({self.max_size})')

    @classmethod
    def of(cls, limits: Limits, min_size: object = 0, max_size: object = None) -> ThreadLimits:
        """*limits* with thread counts: *max_size* None follows the limits'
        total, *min_size* ``'max'`` is *max_size*.

        Raises:
            TypeError: a count that is not an int.
            ValueError: a negative count, ``max_size`` 0 or ``min_size`` above it.
        """
        follows = max_size is None
        if max_size is None:
            max_size = limits.total if not limits.unlimited else (os.cpu_count() or 1) * 5
        max_size = check_count(max_size, 'max_size')
        if min_size == 'max':
            min_size = max_size
        return cls(limits.pool_size, limits.reserve_normal, limits.reserve_high,
                   check_count(min_size, 'min_size'), max_size, follows)


def _check_keys(sizes: Mapping[str, object], allowed: frozenset[str], what: str) -> None:
    unknown = set(sizes) - allowed
    if unknown:
        raise TypeError(f'{what}() got unexpected keyword arguments: {sorted(unknown)}')


@overload
def merge_limits(old: ThreadLimits, sizes: Mapping[str, object], what: str) -> ThreadLimits: ...
@overload
def merge_limits(old: Limits, sizes: Mapping[str, object], what: str) -> Limits: ...


def merge_limits(old: Limits, sizes: Mapping[str, object], what: str) -> Limits:
    """*old* with the sizes given in *sizes* changed; of *old*'s type.

    An unset ``max_size`` of `ThreadLimits` keeps following the limits' total.

    Raises:
        TypeError: a key other than ``pool_size``, ``reserve_normal``,
            ``reserve_high`` (plus ``min_size``, ``max_size`` for
            `ThreadLimits`), naming *what*; a size that is not an int.
        ValueError: a bad size.

    Any thread; never blocks.
    """
    _check_keys(sizes, THREAD_KEYS if isinstance(old, ThreadLimits) else POOL_KEYS, what)
    limits = Limits(
        pool_size=check_count(sizes.get('pool_size', old.pool_size), 'pool_size'),
        reserve_normal=check_count(sizes.get('reserve_normal', old.reserve_normal),
                                   'reserve_normal'),
        reserve_high=check_count(sizes.get('reserve_high', old.reserve_high), 'reserve_high'),
    )
    if isinstance(old, ThreadLimits):
        max_size = sizes.get('max_size', None if old.max_follows_total else old.max_size)
        return ThreadLimits.of(limits, sizes.get('min_size', old.min_size), max_size)
    return limits

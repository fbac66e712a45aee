"""The tier sizes a supervisor is configured with, merged from keyword arguments.

``set_thread_pool(**sizes)``, ``set_greenlet_pool(**sizes)`` and
``set_mp_pool(**sizes)`` change some sizes and keep the others. Every check
happens before the new sizes exist, so bad input raises TypeError/ValueError
and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._admission import Limits
from ._constants import check_count
from ._thread_tier import ThreadSizes

#: The keys every tier's sizes have.
POOL_KEYS = frozenset({'pool_size', 'reserve_normal', 'reserve_high'})
#: The thread tier's keys: its limits plus how many OS threads to keep.
THREAD_KEYS = POOL_KEYS | {'min_size', 'max_size'}


def _check_keys(sizes: Mapping[str, object], allowed: frozenset[str], what: str) -> None:
    unknown = set(sizes) - allowed
    if unknown:
        raise TypeError(f'{what}() got unexpected keyword arguments: {sorted(unknown)}')


def merge_limits(old: Limits, sizes: Mapping[str, object], what: str) -> Limits:
    """*old* with the sizes given in *sizes* changed.

    Raises TypeError naming *what* for a key other than ``pool_size``,
    ``reserve_normal``, ``reserve_high``, TypeError/ValueError for a bad
    size. Any thread; never blocks.
    """
    _check_keys(sizes, POOL_KEYS, what)
    return Limits(
        pool_size=check_count(sizes.get('pool_size', old.pool_size), 'pool_size'),
        reserve_normal=check_count(sizes.get('reserve_normal', old.reserve_normal),
                                   'reserve_normal'),
        reserve_high=check_count(sizes.get('reserve_high', old.reserve_high), 'reserve_high'),
    )


def merge_thread_sizes(old: ThreadSizes, sizes: Mapping[str, object], what: str) -> ThreadSizes:
    """*old* with the thread tier's sizes given in *sizes* changed.

    An unset ``max_size`` keeps following the limits' total. Raises
    TypeError naming *what* for an unknown key, TypeError/ValueError for a
    bad size. Any thread; never blocks.
    """
    _check_keys(sizes, THREAD_KEYS, what)
    limits = merge_limits(old.limits, {k: v for k, v in sizes.items() if k in POOL_KEYS}, what)
    explicit_max = 'max_size' in sizes or old.max_size != ThreadSizes(old.limits).max_size
    max_size = sizes.get('max_size', old.max_size if explicit_max else None)
    min_size = sizes.get('min_size', old.min_size)
    return ThreadSizes(limits, 'max' if min_size == 'max' else check_count(min_size, 'min_size'),
                       None if max_size is None else check_count(max_size, 'max_size'))

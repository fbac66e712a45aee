"""g / LocalProxy: values local to the greenlet, hence to the thread and the task."""

from __future__ import annotations

from typing import Any

import gevent
import pytest

import gatasker
from gatasker import TT_GREENLET, TT_THREAD, LocalProxy, g
from gatasker._bridge import Latch, start_real_thread


def test_get_set_has_clear_and_attributes() -> None:
    local = LocalProxy()
    assert local.get('db') is None and local.get('db', 5) == 5 and not local.has('db')
    local.set('db', 'conn')
    assert local.has('db') and local.get('db') == 'conn' and local.db == 'conn'
    local.other = 1
    assert local.get('other') == 1
    assert local.clear('db') and not local.has('db')
    assert local.clear('missing')
    del local.other
    with pytest.raises(AttributeError):
        local.other
    local.set('a', 1)
    local.clear()
    assert not local.has('a')


def test_values_are_local_to_greenlets_and_threads() -> None:
    g.set('who', 'main')
    seen: dict[str, Any] = {}

    def in_greenlet() -> None:
        seen['greenlet_before'] = g.get('who')
        g.set('who', 'greenlet')
        gevent.sleep(0)
        seen['greenlet_after'] = g.get('who')

    gevent.spawn(in_greenlet).join()
    done = Latch()

    def in_thread() -> None:
        seen['thread_before'] = g.get('who')
        g.set('who', 'thread')
        seen['thread_after'] = g.get('who')
        done.set()

    start_real_thread(in_thread, 'local-probe')
    assert done.wait(10)
    assert seen == {'greenlet_before': None, 'greenlet_after': 'greenlet',
                    'thread_before': None, 'thread_after': 'thread'}
    assert g.get('who') == 'main'
    g.clear()


@pytest.mark.parametrize('tt', [TT_THREAD, TT_GREENLET], ids=['thread', 'greenlet'])
def test_a_task_never_sees_its_callers_or_a_previous_tasks_values(
        supervisor: gatasker.TaskSupervisor, tt: int) -> None:
    supervisor.set_thread_pool(pool_size=1, reserve_normal=0, reserve_high=0, max_size=1)
    supervisor.set_greenlet_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    g.set('secret', 'caller')

    def peek_and_set(i: int, **_: Any) -> Any:
        before = g.get('secret')
        g.set('secret', f'task{i}')
        return before

    tasks = [supervisor.put_task(peek_and_set, (i,), tt=tt) for i in range(5)]
    assert gatasker.wait_completed(tasks, timeout=10) == [None] * 5
    assert g.get('secret') == 'caller'
    g.clear()

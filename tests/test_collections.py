"""FunctionCollection and TaskCollection."""

from __future__ import annotations

from typing import Any

import pytest

import gatasker
from gatasker import TASK_CRITICAL, TASK_HIGH, TASK_LOW, FunctionCollection, TaskCollection
from gatasker._bridge import real_thread_id


def test_decorators_return_the_function_and_priority_orders() -> None:
    order: list[str] = []
    startup = FunctionCollection()

    @startup
    def f1() -> int:
        order.append('f1')
        return 1

    @startup(priority=TASK_HIGH)
    def f2() -> int:
        order.append('f2')
        return 2

    @startup(priority=TASK_LOW)
    def f3() -> int:
        order.append('f3')
        return 3

    @startup(priority=TASK_CRITICAL)  # 0: atasker treated it as "no priority"
    def f0() -> int:
        order.append('f0')
        return 0

    assert callable(f1) and f2() == 2 and callable(f3)
    order.clear()
    result, all_ok = startup.execute()
    assert all_ok and order == ['f0', 'f2', 'f1', 'f3']
    assert result == {f'{__name__}.f0': 0, f'{__name__}.f1': 1, f'{__name__}.f2': 2,
                      f'{__name__}.f3': 3}
    assert startup.run() == result and startup() == result


def test_any_number_orders_and_insertion_order_within() -> None:
    c = FunctionCollection()
    calls: list[str] = []
    for name, priority in (('a', 7), ('b', -1), ('c', 7), ('d', 3.5)):
        c.append(lambda name=name: calls.append(name), priority=priority)
    c.execute()
    assert calls == ['b', 'd', 'a', 'c']
    with pytest.raises(TypeError):
        c.append('nope')  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        c.append(lambda: None, priority='high')  # type: ignore[arg-type]


def test_append_remove() -> None:
    c = FunctionCollection()

    def f() -> int:
        return 1

    c.append(f)
    c.append(f)  # once only
    assert len(c.run()) == 1
    c.remove(f)
    assert c.run() == {}
    with pytest.raises(ValueError):
        c.remove(f)


def boom() -> None:
    raise KeyError('boom')


def fine() -> str:
    return 'fine'


@pytest.mark.parametrize('cls', [FunctionCollection, TaskCollection])
def test_failures_with_and_without_on_error(cls: type[FunctionCollection],
                                            supervisor: gatasker.TaskSupervisor) -> None:
    extra: dict[str, Any] = {'supervisor': supervisor} if cls is TaskCollection else {}
    errors: list[dict[str, Any]] = []
    with_handler = cls(on_error=lambda **kw: errors.append(kw), on_error_kwargs={'x': 1},
                       **extra)
    bare = cls(**extra)
    detailed = cls(include_exceptions=True, **extra)
    for c in (with_handler, bare, detailed):
        c.append(boom)
        c.append(fine)
    result, all_ok = with_handler.execute()
    assert not all_ok and errors == [{'x': 1}]
    assert result == {f'{__name__}.boom': None, f'{__name__}.fine': 'fine'}
    result, all_ok = bare.execute()  # atasker re-raised here (and TaskCollection hung)
    assert not all_ok and result[f'{__name__}.fine'] == 'fine'
    result, all_ok = detailed.execute()
    exc, text = result[f'{__name__}.boom']
    assert not all_ok and isinstance(exc, KeyError) and 'KeyError' in text


def where_a() -> tuple[str, int]:
    return 'a', real_thread_id()


def where_b() -> tuple[str, int]:
    return 'b', real_thread_id()


def test_task_collection_runs_functions_as_tasks(supervisor: gatasker.TaskSupervisor) -> None:
    tasks = TaskCollection(supervisor=supervisor, tt=gatasker.TT_THREAD)
    tasks.append(where_b, priority=TASK_LOW)
    tasks.append(where_a, priority=TASK_HIGH)
    result, all_ok = tasks.execute()
    assert all_ok
    assert list(result) == [f'{__name__}.where_a', f'{__name__}.where_b']  # priority order
    assert all(thread != real_thread_id() for _, thread in result.values())

"""Issue 13, process tier: atasker programs that use TT_MP run unchanged.

Point 1: ``background_task(f, tt=TT_MP)`` and ``co_mp_apply`` call ``f`` with
exactly the arguments given; only ``put_task`` targets get ``_task_id``.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from compat_targets import power, square, task_id_of
from conftest import PATCHED

import gatasker
from gatasker import TT_MP, TaskSupervisor


def _builtin(sup: TaskSupervisor) -> Callable[[], None]:
    sup.create_mp_pool(processes=2)
    return lambda: None


def _process_pool_executor(sup: TaskSupervisor) -> Callable[[], None]:
    executor = concurrent.futures.ProcessPoolExecutor(max_workers=2)
    sup.mp_pool = executor
    return lambda: executor.shutdown(wait=True)


def _multiprocessing_pool(sup: TaskSupervisor) -> Callable[[], None]:
    import multiprocessing
    pool = multiprocessing.Pool(processes=2)
    sup.mp_pool = pool

    def close() -> None:
        pool.terminate()
        pool.join()

    return close


def _thread_pool_executor(sup: TaskSupervisor) -> Callable[[], None]:
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    sup.mp_pool = executor
    return lambda: executor.shutdown(wait=True)


HANGS_PATCHED = pytest.mark.skipif(PATCHED, reason='the stdlib process pools hang under '
                                                   'patch_all(); the built-in pool is for that')
BACKENDS = [
    pytest.param(_builtin, id='builtin'),
    pytest.param(_process_pool_executor, id='ProcessPoolExecutor', marks=HANGS_PATCHED),
    pytest.param(_multiprocessing_pool, id='multiprocessing.Pool', marks=HANGS_PATCHED),
    pytest.param(_thread_pool_executor, id='ThreadPoolExecutor'),
]


@pytest.fixture(params=BACKENDS)
def mp_sup(request: pytest.FixtureRequest) -> Iterator[TaskSupervisor]:
    sup = TaskSupervisor()
    close = request.param(sup)
    sup.start()
    try:
        yield sup
    finally:
        sup.stop(wait=10)
        close()


def test_point1_background_task_passes_exactly_the_arguments(mp_sup: TaskSupervisor) -> None:
    task = gatasker.background_task(square, tt=TT_MP, supervisor=mp_sup)(7)
    assert task.get(timeout=60) == 49
    decorated = gatasker.background_task(tt=TT_MP, supervisor=mp_sup)(power)
    assert decorated(2, exponent=5).get(timeout=60) == 32


def test_point1_co_mp_apply_passes_exactly_the_arguments(mp_sup: TaskSupervisor) -> None:
    aloop = mp_sup.create_aloop('apply')
    assert aloop

    async def job() -> Any:
        plain = await gatasker.co_mp_apply(square, (6,), supervisor=mp_sup)
        keyed = await gatasker.co_mp_apply(power, (3,), {'exponent': 3}, supervisor=mp_sup)
        return plain, keyed

    assert aloop.run(job()) == (36, 27)


def test_point1_put_task_targets_still_get_their_id(mp_sup: TaskSupervisor) -> None:
    task = mp_sup.put_task(task_id_of, tt=TT_MP)
    assert task.get(timeout=60) == task.id
    with pytest.raises(TypeError, match='_task_id'):
        mp_sup.put_task(square, (2,), tt=TT_MP).get(timeout=60)

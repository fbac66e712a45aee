"""A queue worker's item whose run waits for a pool slot at stop is run or reported, never lost."""

from __future__ import annotations

import logging
import time
from typing import Any

import gevent
import pytest

import gatasker
from gatasker import TT_GREENLET
from gatasker._bridge import Latch

WAIT = 30


def _setup(sup: gatasker.TaskSupervisor) -> tuple[gatasker.BackgroundQueueWorker, list[Any], Latch]:
    """A worker whose only item waits for the one greenlet slot, held by a gated task."""
    sup.set_greenlet_pool(pool_size=1, reserve_normal=0, reserve_high=0)
    gate = Latch()
    sup.put_task(lambda **_: gate.wait(WAIT), tt=TT_GREENLET)
    ran: list[Any] = []
    worker = gatasker.BackgroundQueueWorker(func=lambda item, **_: ran.append(item),
                                            tt=TT_GREENLET, supervisor=sup)
    worker.start()
    worker.put('item')
    deadline = time.monotonic() + WAIT  # no event says "waits for a slot": a bounded look
    while worker._task is None or worker._task.is_started():
        assert time.monotonic() < deadline, "the item's run never queued"
        gevent.sleep(0.001)
    return worker, ran, gate


def _not_run_reported(caplog: pytest.LogCaptureFixture) -> bool:
    return any('1 queued item(s) not run' in r.getMessage() for r in caplog.records)


def test_stop_with_drain_runs_the_waiting_item(supervisor: gatasker.TaskSupervisor,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger='gatasker')
    worker, ran, gate = _setup(supervisor)
    assert worker.stop(wait=False, drain=True)
    gate.set()
    assert worker._actor.stopped.wait(WAIT)
    assert ran == ['item']
    assert not _not_run_reported(caplog)


@pytest.mark.parametrize('how', ['worker_stop_no_wait', 'worker_stop', 'supervisor_stop_bounded'])
def test_stop_reports_the_waiting_item(how: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger='gatasker')
    sup = gatasker.TaskSupervisor()
    sup.start()
    worker, ran, gate = _setup(sup)
    try:
        if how == 'worker_stop_no_wait':
            assert worker.stop(wait=False)
        elif how == 'worker_stop':
            assert worker.stop()
        else:
            assert sup.stop(wait=1)
        assert worker._actor.stopped.wait(WAIT)
    finally:
        gate.set()
        sup.stop()
    assert ran == []
    assert _not_run_reported(caplog)

"""The hub watchdog: a greenlet that blocks its hub is reported, once per incident."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import settle

import gatasker
from gatasker import TT_GREENLET
from gatasker._bridge import allocate_lock


class Catcher(logging.Handler):
    """Collects the watchdog's warnings and releases *gate* at the first one."""

    def __init__(self, lock: Any) -> None:
        super().__init__()
        self.gate = lock
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if 'blocked the hub' in record.getMessage():
            self.records.append(record)
            if len(self.records) == 1:
                self.gate.release()


@pytest.fixture
def catcher() -> Iterator[Catcher]:
    lock = allocate_lock()
    lock.acquire()
    handler = Catcher(lock)
    gatasker.logger.addHandler(handler)
    try:
        yield handler
    finally:
        gatasker.logger.removeHandler(handler)


def test_a_blocking_greenlet_task_is_reported_once(supervisor: gatasker.TaskSupervisor,
                                                   catcher: Catcher) -> None:
    supervisor.watch_hub(0.05)

    def hog_the_hub(**_: Any) -> bool:
        # A real lock: the hub's OS thread stops until the watchdog's report.
        return bool(catcher.gate.acquire(True, 60))

    task = supervisor.put_task(hog_the_hub, tt=TT_GREENLET)
    assert task.get(timeout=120) is True  # released by the report, not by the bound
    settle(supervisor)
    assert len(catcher.records) == 1
    assert 'hog_the_hub' in catcher.records[0].getMessage()
    hub = supervisor.statistics().hub
    assert hub is not None
    assert hub.incidents == 1 and hub.threshold == 0.05
    assert hub.last_stack is not None and 'hog_the_hub' in hub.last_stack
    assert hub.samples >= 1 and hub.lag_p99 is not None and hub.lag_max is not None


def test_watch_hub_on_and_off(supervisor: gatasker.TaskSupervisor) -> None:
    assert supervisor.statistics().hub is None
    supervisor.watch_hub(5)
    hub = supervisor.statistics().hub
    assert hub is not None and hub.threshold == 5.0 and hub.incidents == 0
    supervisor.watch_hub(None)
    assert supervisor.statistics().hub is None


def test_watch_hub_is_kept_across_restarts() -> None:
    sup = gatasker.TaskSupervisor()
    sup.watch_hub(2)
    for _ in range(2):
        sup.start()
        try:
            hub = sup.statistics().hub
            assert hub is not None and hub.threshold == 2.0
        finally:
            sup.stop()
        hub = sup.statistics().hub
        assert hub is not None and hub.incidents == 0  # readable after the stop


@pytest.mark.parametrize('bad, error', [
    ('0.1', TypeError), (True, TypeError), (0, ValueError), (-1, ValueError),
    (float('inf'), ValueError), (float('nan'), ValueError)])
def test_watch_hub_rejects_bad_thresholds(supervisor: gatasker.TaskSupervisor, bad: Any,
                                          error: type[Exception]) -> None:
    supervisor.watch_hub(1)
    with pytest.raises(error):
        supervisor.watch_hub(bad)
    hub = supervisor.statistics().hub
    assert hub is not None and hub.threshold == 1.0  # nothing changed

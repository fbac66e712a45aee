"""A 200 MB process-tier result is read in slices, and the hub runs between slices."""

from __future__ import annotations

from typing import Any

import gevent
import mp_targets
import pytest

import gatasker
import gatasker._process_channel as process_channel
from gatasker import TT_GREENLET, TT_MP

SIZE = 200 * 1024 * 1024


def test_a_200_mb_result_is_read_in_slices_that_yield_to_the_hub(
        supervisor: gatasker.TaskSupervisor, monkeypatch: pytest.MonkeyPatch) -> None:
    supervisor.create_mp_pool(processes=1)
    assert supervisor.put_task(mp_targets.pid, tt=TT_MP).get(timeout=60)  # the process is up
    beats = [0]
    running = [True]

    def heartbeat(**_: Any) -> None:
        # In the hub that reads the result: one beat each time the hub lets it run.
        while running[0]:
            beats[0] += 1
            gevent.sleep(0)

    between: list[int] = []  # beats while the reader yielded, per pause
    pause = process_channel._yield_to_hub

    def counted_pause() -> None:
        before = beats[0]
        pause()
        between.append(beats[0] - before)

    monkeypatch.setattr(process_channel, '_yield_to_hub', counted_pause)
    beating = supervisor.put_task(heartbeat, tt=TT_GREENLET)
    try:
        result = supervisor.put_task(mp_targets.blob, (SIZE,), tt=TT_MP).get(timeout=120)
    finally:
        running[0] = False
    assert beating.wait(30)
    assert len(result) == SIZE
    del result
    # One pause per slice read (a read may overshoot a slice by what the socket held).
    assert len(between) >= SIZE // process_channel.SLICE // 4
    assert min(between) >= 1, 'the heartbeat did not run between two slices'

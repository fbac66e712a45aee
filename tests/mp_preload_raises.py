"""A module whose import raises what ``GATASKER_TEST_PRELOAD_RAISES`` names
(test_process_preload preloads it in worker processes; no test module imports it)."""

from __future__ import annotations

import os
import sys

import gevent
from greenlet import GreenletExit

RAISES: dict[str, BaseException] = {
    'ValueError': ValueError('mp_preload_raises cannot be imported'),
    'SystemExit': SystemExit(3),
    'KeyboardInterrupt': KeyboardInterrupt(),
    'GreenletExit': GreenletExit(),
    'Timeout': gevent.Timeout(),
}

_what = os.environ.get('GATASKER_TEST_PRELOAD_RAISES', '')
if _what == 'exit':
    sys.stdout.flush()
    os._exit(7)  # the process ends while importing
raise RAISES[_what]

"""The pytest plugin: the gatasker_supervisor fixture and run_patched."""

from __future__ import annotations

import pytest

import gatasker
from gatasker.testing import run_patched

pytest_plugins = ['pytester']


def test_fixture_gives_a_running_supervisor(gatasker_supervisor: gatasker.TaskSupervisor) -> None:
    assert gatasker_supervisor.is_started()
    assert gatasker_supervisor.put_task(lambda **_: 3).get(timeout=10) == 3


def test_fixture_fails_a_test_that_leaves_work_behind(pytester: pytest.Pytester) -> None:
    pytester.makepyfile('''
        import gatasker

        def test_clean(gatasker_supervisor):
            gatasker_supervisor.put_task(lambda **_: None).wait(10)

        def test_leaves_an_actor(gatasker_supervisor):
            class Idle(gatasker.Actor):
                def on_receive(self, message):
                    return message
            Idle.spawn(supervisor=gatasker_supervisor)
    ''')
    result = pytester.runpytest_subprocess('-q')  # the pytest11 entry point loads the plugin
    result.assert_outcomes(passed=2, errors=1)  # the leaky test errors at teardown
    result.stdout.fnmatch_lines(['*left 0 task(s) and 1 actor(s)*'])


def test_run_patched() -> None:
    proc = run_patched('''
        import gevent.monkey, gatasker
        print(gevent.monkey.is_module_patched('threading'), gatasker.task_supervisor.default_tt)
    ''')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ['True', str(gatasker.TT_GREENLET)]

"""The package root is a curated public API: pin it."""

from __future__ import annotations

import gatasker

PUBLIC = {
    'ALoop', 'IALoop', 'Actor', 'ActorNotRunning', 'BackgroundAsyncWorker', 'BackgroundEventWorker',
    'BackgroundIntervalWorker', 'BackgroundQueueWorker', 'BackgroundWorker',
    'FunctionCollection', 'GataskerError', 'IActor', 'ISupervisor', 'ITask', 'ITier', 'IWorker',
    'LocalProxy', 'Locker', 'MailboxFull', 'SupervisorNotRunning', 'SupervisorStatistics',
    'TASK_CRITICAL', 'TASK_HIGH', 'TASK_LOW', 'TASK_NORMAL', 'TASK_STATUS_CANCELED',
    'TASK_STATUS_COMPLETED', 'TASK_STATUS_DELAYED', 'TASK_STATUS_QUEUED', 'TASK_STATUS_STARTED',
    'TT_COROUTINE', 'TT_GREENLET', 'TT_MP', 'TT_THREAD', 'Task', 'TaskCancelled',
    'TaskCollection', 'TaskCompleted', 'TaskEvent', 'TaskQueued', 'TaskStarted', 'TaskSupervisor',
    'TaskTimeout', 'TierStatistics', 'background_task', 'background_worker', 'g', 'logger',
    'set_debug', 'task_supervisor', 'wait_completed', 'ProcessPool', 'RemoteTraceback',
    'WorkerProcessDied', 'co_mp_apply', 'as_completed', 'Executor',
    'ActorStatistics', 'HistogramSnapshot', 'HubStatistics', 'PriorityStatistics',
    'ProcessPoolStatistics',
    'Terminated', 'ActorSupervisor', 'ActorSupervisorStatistics', 'ChildSpec', 'ChildStatistics',
    'SupervisionFailed', 'ActorRestarted', 'ActorTerminated', 'ActorPool',
    'TaskWaitTimeout', 'TaskRateLimited', 'TaskRetrying', 'checkpoint', 'current_task', 'BackgroundCronWorker',
}


def test_all_is_pinned() -> None:
    assert set(gatasker.__all__) == PUBLIC
    assert len(gatasker.__all__) == len(PUBLIC)


def test_every_public_name_exists_and_is_documented() -> None:
    for name in gatasker.__all__:
        obj = getattr(gatasker, name)
        if callable(obj) and not isinstance(obj, int):
            assert obj.__doc__, f'{name} has no docstring'


def test_errors_inherit_the_matching_builtin() -> None:
    assert issubclass(gatasker.SupervisorNotRunning, (gatasker.GataskerError, RuntimeError))
    assert issubclass(gatasker.ActorNotRunning, (gatasker.GataskerError, RuntimeError))
    assert issubclass(gatasker.TaskTimeout, gatasker.GataskerError)
    assert issubclass(gatasker.TaskTimeout, TimeoutError)
    assert issubclass(gatasker.MailboxFull, gatasker.GataskerError)
    assert issubclass(gatasker.TaskCancelled, gatasker.GataskerError)


def test_typed_marker_is_shipped() -> None:
    import importlib.resources
    assert importlib.resources.files('gatasker').joinpath('py.typed').is_file()


def test_process_pool_options_are_pinned() -> None:
    # create_mp_pool(**kwargs) passes these on to ProcessPool
    import inspect
    assert list(inspect.signature(gatasker.ProcessPool).parameters) == [
        'processes', 'initializer', 'initargs', 'maxtasksperchild', 'start_method', 'preload']
    from gatasker._process_config import _POOL_OPTIONS
    assert _POOL_OPTIONS == {'initializer', 'initargs', 'maxtasksperchild', 'start_method',
                             'preload'}

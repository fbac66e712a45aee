"""gatasker: actor-style tasks and workers on gevent greenlets.

The public names, with atasker 0.7's meanings; see the README and ``docs/``.
"""

from __future__ import annotations

from ._actor import Actor as Actor
from ._actor import Terminated as Terminated
from ._actor_pool import ActorPool as ActorPool
from ._aloop import ALoop as ALoop
from ._api import background_task as background_task
from ._api import co_mp_apply as co_mp_apply
from ._api import task_supervisor as task_supervisor
from ._child_spec import ActorSupervisorStatistics as ActorSupervisorStatistics
from ._child_spec import ChildSpec as ChildSpec
from ._child_spec import ChildStatistics as ChildStatistics
from ._child_spec import SupervisionFailed as SupervisionFailed
from ._collections import FunctionCollection as FunctionCollection
from ._collections import TaskCollection as TaskCollection
from ._constants import TASK_CRITICAL as TASK_CRITICAL
from ._constants import TASK_HIGH as TASK_HIGH
from ._constants import TASK_LOW as TASK_LOW
from ._constants import TASK_NORMAL as TASK_NORMAL
from ._constants import TASK_STATUS_CANCELED as TASK_STATUS_CANCELED
from ._constants import TASK_STATUS_COMPLETED as TASK_STATUS_COMPLETED
from ._constants import TASK_STATUS_DELAYED as TASK_STATUS_DELAYED
from ._constants import TASK_STATUS_QUEUED as TASK_STATUS_QUEUED
from ._constants import TASK_STATUS_STARTED as TASK_STATUS_STARTED
from ._constants import TT_COROUTINE as TT_COROUTINE
from ._constants import TT_GREENLET as TT_GREENLET
from ._constants import TT_MP as TT_MP
from ._constants import TT_THREAD as TT_THREAD
from ._cron import BackgroundCronWorker as BackgroundCronWorker
from ._errors import ActorNotRunning as ActorNotRunning
from ._errors import GataskerError as GataskerError
from ._errors import MailboxFull as MailboxFull
from ._errors import SupervisorNotRunning as SupervisorNotRunning
from ._errors import TaskCancelled as TaskCancelled
from ._errors import TaskTimeout as TaskTimeout
from ._errors import WorkerProcessDied as WorkerProcessDied
from ._event_worker import BackgroundEventWorker as BackgroundEventWorker
from ._events import TaskCompleted as TaskCompleted
from ._events import TaskEvent as TaskEvent
from ._events import TaskQueued as TaskQueued
from ._events import TaskRateLimited as TaskRateLimited
from ._events import TaskRetrying as TaskRetrying
from ._events import TaskStarted as TaskStarted
from ._events import TaskWaitTimeout as TaskWaitTimeout
from ._executor import Executor as Executor
from ._interfaces import IActor as IActor
from ._interfaces import IALoop as IALoop
from ._interfaces import ISupervisor as ISupervisor
from ._interfaces import ITask as ITask
from ._interfaces import ITier as ITier
from ._interfaces import IWorker as IWorker
from ._interval_worker import BackgroundIntervalWorker as BackgroundIntervalWorker
from ._local import LocalProxy as LocalProxy
from ._local import g as g
from ._locker import Locker as Locker
from ._logging import logger as logger
from ._logging import set_debug as set_debug
from ._process_pool import ProcessPool as ProcessPool
from ._process_pool import RemoteTraceback as RemoteTraceback
from ._queue_worker import BackgroundQueueWorker as BackgroundQueueWorker
from ._statistics import ActorStatistics as ActorStatistics
from ._statistics import HistogramSnapshot as HistogramSnapshot
from ._statistics import HubStatistics as HubStatistics
from ._statistics import PriorityStatistics as PriorityStatistics
from ._statistics import ProcessPoolStatistics as ProcessPoolStatistics
from ._statistics import SupervisorStatistics as SupervisorStatistics
from ._statistics import TierStatistics as TierStatistics
from ._supervision import ActorRestarted as ActorRestarted
from ._supervision import ActorSupervisor as ActorSupervisor
from ._supervision import ActorTerminated as ActorTerminated
from ._supervisor import TaskSupervisor as TaskSupervisor
from ._task import Task as Task
from ._task_run import checkpoint as checkpoint
from ._task_run import current_task as current_task
from ._version import __version__ as __version__
from ._waiting import as_completed as as_completed
from ._waiting import wait_completed as wait_completed
from ._worker import BackgroundAsyncWorker as BackgroundAsyncWorker
from ._worker import BackgroundWorker as BackgroundWorker
from ._workers import background_worker as background_worker

__all__ = [
    'TASK_CRITICAL',
    'TASK_HIGH',
    'TASK_LOW',
    'TASK_NORMAL',
    'TASK_STATUS_CANCELED',
    'TASK_STATUS_COMPLETED',
    'TASK_STATUS_DELAYED',
    'TASK_STATUS_QUEUED',
    'TASK_STATUS_STARTED',
    'TT_COROUTINE',
    'TT_GREENLET',
    'TT_MP',
    'TT_THREAD',
    'ALoop',
    'Actor',
    'ActorNotRunning',
    'ActorPool',
    'ActorRestarted',
    'ActorStatistics',
    'ActorSupervisor',
    'ActorSupervisorStatistics',
    'ActorTerminated',
    'BackgroundAsyncWorker',
    'BackgroundCronWorker',
    'BackgroundEventWorker',
    'BackgroundIntervalWorker',
    'BackgroundQueueWorker',
    'BackgroundWorker',
    'ChildSpec',
    'ChildStatistics',
    'Executor',
    'FunctionCollection',
    'GataskerError',
    'HistogramSnapshot',
    'HubStatistics',
    'IALoop',
    'IActor',
    'ISupervisor',
    'ITask',
    'ITier',
    'IWorker',
    'LocalProxy',
    'Locker',
    'MailboxFull',
    'PriorityStatistics',
    'ProcessPool',
    'ProcessPoolStatistics',
    'RemoteTraceback',
    'SupervisionFailed',
    'SupervisorNotRunning',
    'SupervisorStatistics',
    'Task',
    'TaskCancelled',
    'TaskCollection',
    'TaskCompleted',
    'TaskEvent',
    'TaskQueued',
    'TaskRateLimited',
    'TaskRetrying',
    'TaskStarted',
    'TaskSupervisor',
    'TaskTimeout',
    'TaskWaitTimeout',
    'Terminated',
    'TierStatistics',
    'WorkerProcessDied',
    'as_completed',
    'background_task',
    'background_worker',
    'checkpoint',
    'co_mp_apply',
    'current_task',
    'g',
    'logger',
    'set_debug',
    'task_supervisor',
    'wait_completed',
]

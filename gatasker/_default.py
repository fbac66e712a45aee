"""The default supervisor: the one used wherever none is given.

A module of its own so that the decorators, actors, executors and
collections import it at their top instead of reaching back into ``_api``
from inside a function to dodge an import cycle. It imports only
``_supervisor``; no module that ``_supervisor`` imports may import it.
"""

from __future__ import annotations

from ._supervisor import TaskSupervisor

#: The supervisor used when none is given; it starts with the first task
#: or worker that needs it.
task_supervisor = TaskSupervisor(supervisor_id='default', _autostart=True)

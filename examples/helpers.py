"""Collections, g and Locker."""

import gatasker
from gatasker import TASK_HIGH, FunctionCollection, Locker, TaskCollection, g

startup = FunctionCollection()


@startup(priority=TASK_HIGH)
def config():
    return 'config'


@startup
def database():
    return 'db'


results, all_ok = startup.execute()
print(results, all_ok)
assert all_ok and list(results.values()) == ['config', 'db']

tasks = TaskCollection()
tasks.append(config)
tasks.append(database)
assert tasks.run() == results

g.set('user', 'alice')
assert g.get('user') == 'alice'
assert gatasker.background_task(lambda: g.get('user'))().get() is None  # tasks start empty

lock = Locker(mod='example', timeout=1)


@lock
def critical_section():
    with lock:  # reentrant by default
        return 'inside'


assert critical_section() == 'inside'
gatasker.task_supervisor.stop()
print('helpers ok')

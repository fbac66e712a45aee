"""aloops: coroutines on an asyncio loop in its own thread, awaited from sync code."""

import asyncio

import gatasker

loop = gatasker.task_supervisor.create_aloop('io', default=True)


async def fetch(x):
    await asyncio.sleep(0.01)
    return x * 2


print(loop.run(fetch(21)))                       # run and wait
task = loop.background_task(fetch(1))           # a Task
results = gatasker.wait_completed([task, gatasker.background_task(fetch)(5)])
print(results)
assert results == [2, 10]
gatasker.task_supervisor.stop()

"""The worker kinds: interval, queue, event and back-to-back."""

import threading

import gatasker
from gatasker import background_worker

ticks, items, events = [], [], []
enough = threading.Event()


@background_worker(interval=0.01)
def ticker(**_):
    ticks.append(1)


@background_worker(q=True)
def consumer(item, **_):
    items.append(item)
    if item == 'last':
        enough.set()


@background_worker(e=True)
def on_event(**_):
    events.append(1)


@background_worker
def once(**_):
    return False  # a worker stops itself by returning False


for worker in (ticker, consumer, on_event, once):
    worker.start()
for item in ('a', 'b', 'last'):
    consumer.put(item)
on_event.trigger()
assert enough.wait(10)
for worker in (ticker, consumer, on_event, once):
    worker.stop()
print(f'ticks={len(ticks)} items={items} events={len(events)}')
assert items == ['a', 'b', 'last'] and events == [1]
gatasker.task_supervisor.stop()

"""Tasks as futures: gevent, asyncio and concurrent.futures code waiting on gatasker tasks.

Run it plain (``python examples/interop.py``) or monkey-patched
(``python examples/interop.py --patched``): the same code works in both.
"""

import sys

if __name__ == '__main__' and '--patched' in sys.argv:
    from gevent import monkey

    monkey.patch_all()

import asyncio
import concurrent.futures
import threading
import time

import gevent

import gatasker
from gatasker import TASK_HIGH, background_task


@background_task
def fetch(n: int) -> int:
    time.sleep(0.01 * (5 - n))  # stands for blocking I/O; higher n ends sooner
    return n * n


@background_task(priority=TASK_HIGH)
def fails() -> None:
    raise ValueError('expected')


def with_gevent() -> None:
    tasks = [fetch(n) for n in range(5)]
    done = gevent.wait(tasks, timeout=10)  # any greenlet, any hub
    assert {t.result for t in done} == {0, 1, 4, 9, 16}
    try:
        gevent.joinall([fetch(1), fails()], raise_error=True)
    except ValueError as exc:
        print('joinall raised:', exc)
    print('iwait order:', [t.result for t in gevent.iwait([fetch(n) for n in range(5)])])


def with_callbacks() -> None:
    seen: list[int] = []
    ready = threading.Event()
    task = fetch(3)
    # runs once, in the supervisor's hub (at once if the task is already done)
    task.add_done_callback(lambda t: (seen.append(t.get()), ready.set()))
    assert ready.wait(10) and seen == [9]
    print('callback saw:', seen)


def with_asyncio() -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        with gatasker.Executor(priority=TASK_HIGH) as executor:
            in_executor = await loop.run_in_executor(executor, pow, 2, 10)
        return [await fetch(4),  # does not block the loop
                await asyncio.wrap_future(fetch(2).future()),
                in_executor]

    print('asyncio:', asyncio.run(main()))


def with_concurrent_futures() -> None:
    futures = [fetch(n).future() for n in range(5)]
    done, _ = concurrent.futures.wait(futures, timeout=10)
    assert len(done) == 5
    first = next(concurrent.futures.as_completed(futures))
    print('first future:', first.result())
    with gatasker.Executor() as executor:
        print('map:', list(executor.map(pow, range(5), [2] * 5, buffersize=2, timeout=10)))


def with_as_completed() -> None:
    for task in gatasker.as_completed([fetch(n) for n in range(5)], timeout=10):
        print('completed:', task.result)


def main() -> None:
    gatasker.task_supervisor.start()
    print('mode:', gatasker.task_supervisor.mode)
    try:
        with_gevent()
        with_callbacks()
        with_asyncio()
        with_concurrent_futures()
        with_as_completed()
        # from another thread too (a greenlet when patched)
        thread = threading.Thread(target=with_as_completed)
        thread.start()
        thread.join()
    finally:
        gatasker.task_supervisor.stop()
    print('ok')


if __name__ == '__main__':
    main()

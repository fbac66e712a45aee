"""User code checked by ``mypy --strict`` in tests/test_typing.py; it is never run.

``assert_type`` lines say what a type must be; a line ending in
``# type: ignore[<code>]`` must be an error of that code (mypy --strict warns
about an ignore that is not needed, so a line that stops being an error fails
the check); ``reveal_type`` lines carry the expected text after ``# R:``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Iterator

from typing_extensions import assert_type, reveal_type

import gatasker
from gatasker import Task, background_task


@background_task
def plain(x: int, label: str = '') -> int:
    return x


@background_task(priority=gatasker.TASK_HIGH)
def with_args(x: int) -> str:
    return str(x)


@background_task
async def coro(x: int) -> bytes:
    await asyncio.sleep(0)
    return b'x'


def direct(x: float) -> float:
    return x


assert_type(plain(1), Task[int])
assert_type(plain(1, label='a'), Task[int])
assert_type(with_args(1), Task[str])
assert_type(coro(1), Task[bytes])
assert_type(background_task(direct, priority=gatasker.TASK_LOW)(1.0), Task[float])
reveal_type(plain)  # R: def (x: builtins.int, label: builtins.str =) -> gatasker._task.Task[builtins.int]
plain('one')  # type: ignore[arg-type]
with_args()  # type: ignore[call-arg]
plain(1, nope=2)  # type: ignore[call-arg]
background_task(priority='high')  # type: ignore[call-overload]

async def raw_coro(x: int) -> bytes:
    return b''


supervisor = gatasker.TaskSupervisor()
assert_type(supervisor.put_task(direct, (1.0,)), Task[float])
assert_type(supervisor.put_task(raw_coro, (1,), tt=gatasker.TT_COROUTINE), Task[bytes])
supervisor.put_task(direct, priority='high')  # type: ignore[call-overload]

task = plain(1)
assert_type(task.get(), int)
assert_type(task.get(timeout=1), int)
assert_type(task.result, int | None)
assert_type(task.exception, BaseException | None)
assert_type(task.future(), concurrent.futures.Future[int])
assert_type(task.done(), bool)
task.add_done_callback(lambda t: print(t.result))
task.add_done_callback(42)  # type: ignore[arg-type]
task.add_done_callback(lambda t: t.missing)  # type: ignore[attr-defined]
assert_type(gatasker.wait_completed(task), int)
assert_type(gatasker.wait_completed([plain(1), plain(2)]), list[int])
assert_type(gatasker.wait_completed((t for t in [task]), 5), list[int])
assert_type(gatasker.wait_completed(task, return_exceptions=True), int | BaseException)
assert_type(gatasker.wait_completed([task], 5, True), list[int | BaseException])
gatasker.wait_completed(42)  # type: ignore[call-overload]
for done in gatasker.as_completed([plain(1), plain(2)], timeout=1):
    assert_type(done, Task[int])


async def awaits() -> None:
    assert_type(await plain(1), int)
    assert_type(await coro(1), bytes)
    assert_type(await asyncio.wrap_future(with_args(1).future()), str)


# -- workers ----------------------------------------------------------------------------


@gatasker.background_worker
def worker(**kwargs: object) -> None:
    pass


@gatasker.background_worker
async def async_worker(**kwargs: object) -> None:
    pass


@gatasker.background_worker(q=True)
def queue_worker(item: object, **kwargs: object) -> None:
    pass


@gatasker.background_worker(interval=1, name='tick')
def interval_worker(**kwargs: object) -> None:
    pass


@gatasker.background_worker(e=True)
def event_worker(**kwargs: object) -> None:
    pass


@gatasker.background_worker(name='plain')
def named_worker(**kwargs: object) -> None:
    pass


assert_type(worker, gatasker.BackgroundWorker)
assert_type(async_worker, gatasker.BackgroundAsyncWorker)
assert_type(queue_worker, gatasker.BackgroundQueueWorker)
assert_type(interval_worker, gatasker.BackgroundIntervalWorker)
assert_type(event_worker, gatasker.BackgroundEventWorker)
assert_type(named_worker, gatasker.BackgroundWorker)
queue_worker.put(1)
gatasker.background_worker(1, 2)  # type: ignore[call-overload]


# -- actors -------------------------------------------------------------------------------


class Counter(gatasker.Actor):
    def __init__(self, start: int) -> None:
        self.total = start

    def on_receive(self, message: int) -> str:
        self.total += message
        return str(self.total)


counter = Counter.spawn(1, name='counter')
assert_type(counter, Counter)
assert_type(counter.ask(2), str)
assert_type(counter.ask(2, timeout=1), str)
counter.ask('two')  # type: ignore[arg-type]
counter.total = 'x'  # type: ignore[assignment]


class Untyped(gatasker.Actor):
    pass


assert_type(Untyped.spawn(), Untyped)
reveal_type(Untyped.spawn().ask('anything'))  # R: Any


# -- executor and aloop ----------------------------------------------------------------------


def to_bytes(x: int, *, sep: str = '') -> bytes:
    return b''


executor = gatasker.Executor(priority=gatasker.TASK_HIGH)
assert_type(executor.submit(to_bytes, 1, sep='-'), concurrent.futures.Future[bytes])
executor.submit(to_bytes, 'one')  # type: ignore[call-overload]
assert_type(executor.map(to_bytes, [1, 2], buffersize=2), Iterator[bytes])
assert_type(executor.options(tt=gatasker.TT_THREAD), gatasker.Executor)
gatasker.Executor(priority='high')  # type: ignore[arg-type]


async def double(x: int) -> float:
    return 2.0 * x


assert_type(executor.submit(double, 1), concurrent.futures.Future[float])
assert_type(executor.map(double, [1]), Iterator[float])
executor.submit(double, 'x')  # type: ignore[call-overload]


def use_aloop(aloop: gatasker.ALoop) -> None:
    assert_type(aloop.run(double(1)), float)
    assert_type(aloop.background_task(double(1)), Task[float])


def square(x: int) -> int:
    return x * x


async def use_co_mp_apply() -> None:
    assert_type(await gatasker.co_mp_apply(square, (3,)), int)
    await gatasker.co_mp_apply(square, supervisor='default')  # type: ignore[arg-type]

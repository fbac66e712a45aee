"""Collections of functions run together: in order, or concurrently as tasks."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any, TypeVar, overload

from ._constants import PRIORITIES, TASK_NORMAL, check_on_error
from ._default import task_supervisor
from ._logging import logger
from ._supervisor import TaskSupervisor
from ._waiting import wait_completed

#: A function of a collection: called with no argument.
Job = Callable[[], object]
J = TypeVar('J', bound=Job)

#: What a failed function leaves in the results: None, or with
#: ``include_exceptions`` the exception and its formatted traceback.
Failure = tuple[BaseException, str] | None


class FunctionCollection:
    """Functions to run together, most important first (lower priority number).

    Use it as a decorator, ``@collection`` or ``@collection(priority=...)``
    (both return the function), or call `append()`. `execute()` calls every
    function with no arguments and returns ``(results, all_ok)``; *results*
    maps ``'<module>.<name>'`` to what the function returned.

    Args:
        on_error: Called with ``**on_error_kwargs`` when a function raised;
            without it the failure is logged.
        on_error_kwargs: The keywords for *on_error*.
        include_exceptions: A failing function's entry is
            ``(exception, traceback_text)`` instead of None.
    """

    def __init__(self, on_error: Callable[..., object] | None = None,
                 on_error_kwargs: dict[str, object] | None = None,
                 include_exceptions: bool = False) -> None:
        check_on_error(on_error, on_error_kwargs)
        self.on_error = on_error
        self.on_error_kwargs = on_error_kwargs or {}
        self.include_exceptions = bool(include_exceptions)
        self._entries: list[tuple[Job, float]] = []

    @overload
    def __call__(self) -> dict[str, Any]: ...
    @overload
    def __call__(self, f: J, *, priority: float | None = None) -> J: ...
    @overload
    def __call__(self, *, priority: float) -> Callable[[J], J]: ...

    def __call__(self, f: J | None = None, *, priority: float | None = None
                 ) -> dict[str, Any] | J | Callable[[J], J]:
        """``@collection`` / ``@collection(priority=...)`` add a function and
        return it; ``collection()`` runs the collection (atasker's form) and
        returns the results, as `run`."""
        if f is None and priority is None:
            return self.run()  # atasker: calling the collection runs it
        if f is None:
            def decorate(func: J) -> J:
                self.append(func, priority)
                return func
            return decorate
        self.append(f, priority)
        return f

    def append(self, f: Job, priority: float | None = None) -> None:
        """Add *f* (once).

        Args:
            f: A function that takes no argument.
            priority: Any number, lower first; ``TASK_NORMAL`` when None.
        """
        if not callable(f):
            raise TypeError(f'{f!r} is not callable')
        if priority is None:
            priority = TASK_NORMAL
        elif isinstance(priority, bool) or not isinstance(priority, (int, float)):
            raise TypeError(f'priority must be a number, got {priority!r}')
        if all(func is not f for func, _ in self._entries):
            self._entries.append((f, priority))

    def remove(self, f: Job) -> None:
        """Remove *f*.

        Args:
            f: A function of the collection.

        Raises:
            ValueError: *f* is not in the collection.
        """
        for index, (func, _) in enumerate(self._entries):
            if func is f:
                del self._entries[index]
                return
        raise ValueError(f'{f!r} is not in the collection')

    def ordered(self) -> list[tuple[Job, float]]:
        """The functions with their priorities, in running order (stable).

        Returns:
            list: ``(function, priority)`` pairs.
        """
        return sorted(self._entries, key=lambda entry: entry[1])

    @staticmethod
    def key(f: Job) -> str:
        """The result key of *f*.

        Args:
            f: A function.

        Returns:
            str: ``'<module>.<name>'``.
        """
        return f'{getattr(f, "__module__", "")}.{getattr(f, "__name__", repr(f))}'

    def run(self) -> dict[str, Any]:
        """Run the collection and return only the results.

        Returns:
            dict: ``'<module>.<name>'`` to what each function returned.
        """
        return self.execute()[0]

    def execute(self) -> tuple[dict[str, Any], bool]:
        """Run every function in priority order.

        Returns:
            tuple: ``(results, all_ok)``: *results* maps ``'<module>.<name>'``
                to what each function returned; *all_ok* is False if one raised.
        """
        results: dict[str, Any] = {}
        all_ok = True
        for f, _ in self.ordered():
            try:
                results[self.key(f)] = f()
            except Exception as exc:
                results[self.key(f)] = self._failed(f, exc)
                all_ok = False
        return results, all_ok

    def _failed(self, f: Job, exc: BaseException) -> Failure:
        if self.on_error is not None:
            try:
                self.on_error(**self.on_error_kwargs)
            except Exception:
                logger.exception('on_error of a collection failed')
        else:
            logger.error('%s failed in a collection', self.key(f), exc_info=exc)
        if self.include_exceptions:
            return exc, ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return None


class TaskCollection(FunctionCollection):
    """Like `FunctionCollection`, but the functions run concurrently as tasks.

    They are queued in priority order; a function whose priority is one of
    the four task priorities keeps it, any other number runs as
    ``TASK_NORMAL``. `execute()` waits for all of them and never hangs on an
    exception. Blocks the caller like `wait_completed()`.

    Args:
        on_error: As `FunctionCollection` takes it.
        on_error_kwargs: As `FunctionCollection` takes it.
        include_exceptions: As `FunctionCollection` takes it.
        supervisor: The `TaskSupervisor`; the default one when None.
        tt: The tier; the supervisor's ``default_tt`` when None.
        poll_delay: Kept for atasker code; nothing polls.
    """

    def __init__(self, on_error: Callable[..., object] | None = None,
                 on_error_kwargs: dict[str, object] | None = None,
                 include_exceptions: bool = False, supervisor: TaskSupervisor | None = None,
                 tt: int | None = None, poll_delay: float | None = None) -> None:
        super().__init__(on_error, on_error_kwargs, include_exceptions)
        self.supervisor = supervisor
        self.tt = tt
        self.poll_delay = poll_delay  # accepted for atasker code; nothing polls

    def execute(self) -> tuple[dict[str, Any], bool]:
        """Run every function as a task, in priority order, and wait for them all.

        Blocks like `wait_completed()`.

        Returns:
            tuple: ``(results, all_ok)``: *results* maps ``'<module>.<name>'``
                to what each function returned; *all_ok* is False if one raised.
        """
        sup = self.supervisor if self.supervisor is not None else task_supervisor
        tt = self.tt if self.tt is not None else sup.default_tt
        entries = self.ordered()
        tasks = [sup.put_task(f, priority=int(p) if p in PRIORITIES else TASK_NORMAL, tt=tt,
                              _pass_task_id=False) for f, p in entries]
        outcomes = wait_completed(tasks, return_exceptions=True)
        results: dict[str, Any] = {}
        all_ok = True
        for (f, _), task, outcome in zip(entries, tasks, outcomes, strict=True):
            if isinstance(outcome, BaseException) and (
                    task.exception is not None or task.is_canceled()):
                results[self.key(f)] = self._failed(f, outcome)
                all_ok = False
            else:
                results[self.key(f)] = outcome
        return results, all_ok

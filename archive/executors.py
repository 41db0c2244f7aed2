"""Where file-level tasks run (here, in local processes, on a Dask cluster), over a bounded window.

An executor runs one task per input file and hands back a ``concurrent.futures.Future``;
``in_order`` feeds it from an iterator of inputs that may never end (``--from-list`` of millions
of lines) and yields the results in input order. At most ``window`` inputs are between the
oldest one not yet yielded and the newest one submitted, so memory stays flat whatever the
number of inputs, and a slow file holds back at most ``window - 1`` finished ones behind it.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

from archive import __version__
from archive.errors import ArchiveError

Item = TypeVar("Item")
R = TypeVar("R")

# Inputs in flight per worker: one running, the rest queued so that no worker waits for the
# client between two files, and room for the others to go on while one large file is read.
WINDOW_PER_WORKER = 4
# A task raising an exception on a Dask worker is run again this many times (on any worker).
DASK_RETRIES = 2
# A task of a local process pool that broke (a process died) is run again this many times.
PROCESS_RETRIES = 1

EXECUTORS = ("local", "dask")


class ExecutorError(ArchiveError):
    """Tasks cannot be run as asked: no scheduler there, workers without archivist, ..."""


class Executor(ABC):
    """Runs tasks somewhere and says how many run at once."""

    #: True when tasks run in this process (they may share its open catalog and report progress).
    in_process: bool = False

    @property
    @abstractmethod
    def workers(self) -> int:
        """How many tasks run at once."""

    @abstractmethod
    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        """Start ``fn(*args)``; its outcome comes back in the future."""

    def reason(self, exc: BaseException) -> str:
        """A task's exception as one line for a report."""
        return f"{type(exc).__name__}: {exc}"

    @abstractmethod
    def close(self) -> None:
        """Release the executor's processes or connections."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class SerialExecutor(Executor):
    """Runs each task at once, in this process: the inputs stream one by one."""

    in_process = True

    @property
    def workers(self) -> int:
        return 1

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        # An exception here is the caller's own (its catalog went away): it is raised, not
        # turned into a report, as it would be without an executor.
        future: Future[R] = Future()
        future.set_result(fn(*args))
        return future

    def close(self) -> None:
        pass


class ProcessExecutor(Executor):
    """Runs tasks in ``jobs`` local processes (spawned: no catalog connection is inherited).

    A process that dies (the OOM killer, a signal) breaks the whole pool and fails every task
    it held, running or queued: each of them is run again once, in a fresh pool.
    """

    def __init__(self, jobs: int, *, retries: int = PROCESS_RETRIES) -> None:
        self._jobs = jobs
        self._retries = retries
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    @property
    def workers(self) -> int:
        return self._jobs

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        outcome: Future[R] = Future()
        self._start(outcome, self._retries, fn, args)
        return outcome

    def _start(self, outcome: Future[R], retries: int, fn: Callable[..., R], args: Any) -> None:
        try:
            task = self._working_pool().submit(fn, *args)
        except BrokenProcessPool:
            task = self._working_pool().submit(fn, *args)
        except RuntimeError as exc:  # closed meanwhile
            outcome.set_exception(exc)
            return

        def settle(done: Future[R]) -> None:
            if done.cancelled():  # the pool was closed
                outcome.cancel()
                return
            exc = done.exception()
            if isinstance(exc, BrokenProcessPool) and retries > 0 and not self._closed:
                # Not from this callback: it runs in the broken pool's own management thread.
                again = (outcome, retries - 1, fn, args)
                threading.Thread(target=self._start, args=again, daemon=True).start()
            elif exc is not None:
                outcome.set_exception(exc)
            else:
                outcome.set_result(done.result())

        task.add_done_callback(settle)

    def _working_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the process pool is closed")
            pool = self._pool
            if pool is not None and getattr(pool, "_broken", False):
                pool.shutdown(wait=False, cancel_futures=True)
                pool = None
            if pool is None:
                pool = self._pool = ProcessPoolExecutor(
                    max_workers=self._jobs, mp_context=get_context("spawn")
                )
            return pool

    def reason(self, exc: BaseException) -> str:
        if isinstance(exc, BrokenProcessPool):
            return "worker processes died while ingesting it, twice: nothing recorded"
        return super().reason(exc)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """Runs tasks on the workers of a Dask distributed cluster (``dask scheduler`` address).

    Workers import archivist (the same version) and write to the catalog themselves. A task
    that raises is run again ``retries`` times; a task whose worker dies is rescheduled by the
    scheduler (``distributed.scheduler.allowed-failures`` times, then ``KilledWorker``).
    """

    def __init__(
        self,
        scheduler: str,
        *,
        retries: int = DASK_RETRIES,
        connect_timeout: float | None = None,
    ) -> None:
        try:
            import dask.config
            import distributed
            from dask.utils import parse_timedelta
        except ImportError as exc:
            raise ExecutorError(
                "the Dask executor needs dask[distributed]: pip install 'archivist[dask]'"
            ) from exc
        if connect_timeout is None:
            # Dask's own setting (DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=10s), 30 s by default.
            setting = dask.config.get("distributed.comm.timeouts.connect")
            connect_timeout = float(parse_timedelta(setting, default="seconds") or 30.0)
        self.scheduler = scheduler
        self._retries = retries
        self._lock = threading.Lock()
        self._running: dict[Any, Any] = {}
        self._lost: str | None = None
        client: Any = distributed.Client  # untyped: every call on the client is Any
        try:
            self._client = client(scheduler, timeout=connect_timeout, set_as_default=False)
        except (OSError, ValueError, TypeError) as exc:
            raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
        try:
            self._check_workers(connect_timeout)
        except BaseException:
            self._client.close()
            raise

    def _check_workers(self, timeout: float) -> None:
        try:
            self._client.wait_for_workers(1, timeout=timeout)
        except TimeoutError as exc:
            raise ExecutorError(
                f"no Dask worker joined the scheduler at {self.scheduler} within {timeout:g} s"
            ) from exc
        try:
            versions = self._client.run(archivist_version)
        except Exception as exc:
            raise ExecutorError(
                f"the Dask workers at {self.scheduler} cannot run archivist: "
                f"{type(exc).__name__}: {exc} (install archivist on every worker)"
            ) from exc
        wrong = sorted(f"{w} has {v}" for w, v in versions.items() if v != __version__)
        if wrong:
            raise ExecutorError(
                f"Dask workers run another archivist than this one ({__version__}): "
                + ", ".join(wrong)
            )

    @property
    def workers(self) -> int:
        threads: dict[str, int] = self._client.nthreads()
        return max(1, sum(threads.values()))

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        if self._lost is not None or self._client.status not in ("running", "newly-created"):
            # Tasks sent now would wait for a scheduler that is gone: stop the run here.
            raise ExecutorError(
                f"lost the Dask scheduler at {self.scheduler}: {self._lost or 'client closed'}; "
                "run again to ingest the rest (what was recorded is skipped)"
            )
        outcome: Future[R] = Future()
        try:
            task = self._client.submit(fn, *args, pure=False, retries=self._retries)
        except Exception as exc:
            raise ExecutorError(f"lost the Dask scheduler at {self.scheduler}: {exc}") from exc
        with self._lock:
            # The client forgets a task nobody holds: keep it until its outcome is copied.
            self._running[task.key] = task

        def settle(done: Any) -> None:
            try:
                outcome.set_result(done.result())
            except CancelledError as exc:  # the client lost the scheduler
                self._lost = self._lost or "connection lost"
                outcome.set_exception(exc)
            except Exception as exc:  # KilledWorker, the task's own exception
                outcome.set_exception(exc)
            finally:
                with self._lock:
                    self._running.pop(done.key, None)

        task.add_done_callback(settle)
        return outcome

    def reason(self, exc: BaseException) -> str:
        name = type(exc).__name__
        if name == "KilledWorker":
            return "every Dask worker that tried it died while ingesting it: nothing recorded"
        if isinstance(exc, CancelledError):
            return f"the client lost the Dask scheduler at {self.scheduler} while it ran"
        return super().reason(exc)

    def close(self) -> None:
        if self._lost is None:
            self._client.close()
            return
        # The client's attempts to reconnect end in logged tracebacks: the error said it all.
        quiet = [logging.getLogger(name) for name in ("distributed.client", "distributed.utils")]
        levels = [logger.level for logger in quiet]
        for logger in quiet:
            logger.setLevel(logging.CRITICAL)
        try:
            self._client.close(timeout=5)
        finally:
            for logger, level in zip(quiet, levels, strict=True):
                logger.setLevel(level)


def archivist_version() -> str:
    """The version of archivist a worker imports (checked before any task is sent)."""
    return __version__


def open_executor(kind: str, *, jobs: int = 1, scheduler: str | None = None) -> Executor:
    """The executor named ``kind``: ``local`` (``jobs`` processes, or this one) or ``dask``."""
    if kind == "local":
        return SerialExecutor() if jobs <= 1 else ProcessExecutor(jobs)
    if kind == "dask":
        if not scheduler:
            raise ExecutorError(
                "the Dask executor needs a scheduler address (--scheduler tcp://HOST:PORT, "
                "or ARCHIVIST_DASK_SCHEDULER)"
            )
        return DaskExecutor(scheduler)
    raise ExecutorError(f"unknown executor {kind!r}: use one of {', '.join(EXECUTORS)}")


@dataclass(eq=False)
class _Slot(Generic[Item, R]):
    """One input in the window: its task, its result once settled, what a re-run waits for."""

    item: Item
    future: Future[R]
    result: R | None = None
    settled: bool = False
    rerun: bool = False
    after: list[Future[R]] | None = field(default=None)


def in_order(
    items: Iterable[Item],
    submit: Callable[[Item], Future[R]],
    *,
    window: int,
    failed: Callable[[Item, BaseException], R],
    again: Callable[[R], bool] = lambda result: False,
) -> Iterator[R]:
    """Run ``submit`` over ``items`` with at most ``window`` of them outstanding; results in order.

    ``items`` is read only when there is room, so it may be a stream of any length. A task
    that raises gives ``failed(item, exc)``. A result for which ``again`` is true (a file whose
    claim another task holds) is run once more, after every task that was running when it came
    back has finished: if the claim was one of theirs, it is settled by then.
    """
    window = max(1, window)
    slots: deque[_Slot[Item, R]] = deque()
    pending = iter(items)
    exhausted = False
    while True:
        while not exhausted and len(slots) < window:
            try:
                item = next(pending)
            except StopIteration:
                exhausted = True
                break
            slots.append(_Slot(item, submit(item)))
        for slot in slots:
            if slot.after is not None and all(f.done() for f in slot.after):
                slot.after = None
                slot.rerun = True
                slot.future = submit(slot.item)
            if slot.settled or slot.after is not None or not slot.future.done():
                continue
            try:
                result = slot.future.result()
            except Exception as exc:
                result = failed(slot.item, exc)
            if not slot.rerun and again(result):
                slot.after = [s.future for s in slots if s is not slot and not s.future.done()]
                continue
            slot.result, slot.settled = result, True
        if slots and slots[0].settled:
            while slots and slots[0].settled:
                yield cast(R, slots.popleft().result)
            continue
        if not slots:
            return
        running = [s.future for s in slots if not s.future.done()]
        if running:
            wait(running, return_when=FIRST_COMPLETED)

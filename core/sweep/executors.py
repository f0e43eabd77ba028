"""Executors: each maps groups of cells to their rows, yielding them as they finish (in this process, in
local worker processes, or on a Dask cluster)."""
from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Iterator

from core.config import ConfigError
from core.runtime.exits import RunFailed
from core.sweep.cells import run_group, worker_group
from core.sweep.plan import Plan


WATCH_SECONDS = 0.25   # how often a worker looks for its parent


def _start_worker(parent: int) -> None:
    """Ctrl-C reaches every process of the terminal: the parent stops the sweep, workers just finish. A worker
    whose parent is gone (killed with SIGKILL, which it cannot catch) ends itself: nothing is left running."""
    import signal
    import threading
    import time
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch():
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        os._exit(1)
    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()

class SerialExecutor:
    """In this process, one group after another (for the window's tests and one-core machines)."""
    workers = 1

    def run(self, plan: Plan, groups: list, stop=None) -> Iterator[list]:
        for g in groups:
            if stop is not None and stop.is_set():
                return
            yield run_group(plan, g)

    def map_unordered(self, fn, items, stop=None) -> Iterator[tuple]:
        """(index, fn(item)) for each item, as each finishes (here: in order). ``fn`` a module-level function."""
        for i, item in enumerate(items):
            if stop is not None and stop.is_set():
                return
            yield i, fn(item)

    def close(self, wait: bool = True) -> None:
        pass

class LocalExecutor:
    """Worker processes on this machine (started fresh, never forked from a process with threads)."""

    def __init__(self, workers: int | None = None):
        import multiprocessing
        self.workers = workers or os.cpu_count() or 1
        self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker, initargs=(os.getpid(),))

    def run(self, plan: Plan, groups: list, stop=None) -> Iterator[list]:
        pending = {self._pool.submit(worker_group, plan, g) for g in groups}
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for f in done:
                    try:
                        rows = f.result()
                    except BrokenProcessPool as e:
                        raise RunFailed(f"workers: a worker process died ({_first_line(e)}); "
                                        f"if memory ran out, try fewer --workers") from None
                    yield rows
                if stop is not None and stop.is_set():
                    return
        finally:
            for f in pending:
                f.cancel()

    def map_unordered(self, fn, items, stop=None) -> Iterator[tuple]:
        """(index, fn(item)) for each item, as each finishes in the worker processes."""
        futures = {self._pool.submit(fn, item): i for i, item in enumerate(items)}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for f in done:
                    try:
                        yield futures[f], f.result()
                    except BrokenProcessPool as e:
                        raise ConfigError("workers", f"workers: a worker process died ({_first_line(e)}); "
                                                     f"if memory ran out, try fewer --workers") from None
                if stop is not None and stop.is_set():
                    return
        finally:
            for f in pending:
                f.cancel()

    def close(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)

class DaskExecutor:
    """The same groups as tasks on an existing dask.distributed cluster (or a given Client)."""

    def __init__(self, address_or_client):
        from distributed import Client
        if isinstance(address_or_client, str):
            try:
                self._client, self._own = Client(address_or_client, timeout="10s"), True
            except (OSError, TimeoutError, ValueError, TypeError) as e:  # Dask's own refusals of an address
                raise ConfigError("scheduler", f"scheduler: cannot connect to {address_or_client!r}: {e}") from None
        else:
            self._client, self._own = address_or_client, False
        self.workers = sum(self._client.nthreads().values())
        if self.workers == 0:
            self.close()
            raise ConfigError("scheduler", f"scheduler: the cluster at {address_or_client!r} has no workers; "
                                           f"start some with: dask worker --nthreads 1 ADDRESS")

    def run(self, plan: Plan, groups: list, stop=None) -> Iterator[list]:
        from distributed import as_completed
        futures = [self._client.submit(worker_group, plan, g, pure=False) for g in groups]
        try:
            for f in as_completed(futures):
                try:
                    rows = f.result()
                except Exception as e:  # raised on the cluster: its environment, not this process
                    raise RunFailed(f"scheduler: a task failed on the cluster ({_first_line(e)}); the scheduler "
                                    f"and every worker need this project installed") from None
                yield rows
                if stop is not None and stop.is_set():
                    return
        finally:
            self._client.cancel([f for f in futures if not f.done()])

    def map_unordered(self, fn, items, stop=None) -> Iterator[tuple]:
        """(index, fn(item)) for each item, as each finishes on the cluster."""
        from distributed import as_completed
        futures = [self._client.submit(fn, item, pure=False) for item in items]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for f in as_completed(futures):
                try:
                    value = f.result()
                except Exception as e:  # raised on the cluster: its environment, not this process
                    raise ConfigError("scheduler", f"scheduler: a task failed on the cluster ({_first_line(e)}); "
                                                   f"the scheduler and every worker need this project "
                                                   f"installed") from None
                yield index[f.key], value
                if stop is not None and stop.is_set():
                    return
        finally:
            self._client.cancel([f for f in futures if not f.done()])

    def close(self, wait: bool = True) -> None:
        if self._own:
            self._client.close()

def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__

def make_executor(workers: int | None = None, scheduler: str | None = None):
    if scheduler:
        return DaskExecutor(scheduler)
    if workers == 1:
        return SerialExecutor()
    return LocalExecutor(workers)

"""Running a CPU-bound build (the report's files) off the event loop.

python-docx, openpyxl and Pillow hold the GIL while they build, so a thread would still stall the bot:
the build runs in one worker process (started with "spawn": forking a process that runs an event loop
and database connections is unsafe). Arguments and results cross as pickles, so they are plain data.
Where a process cannot be started (a sandbox without semaphores, a frozen build), or the worker died,
the build runs in a thread instead: slower for everyone else, but the report still arrives.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # One worker: reports are rare, and a second build would only compete for the same cores.
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


async def run_off_loop(function: Callable[..., T], *args: object) -> T:
    """`function(*args)` in the worker process (a thread if no process can be had)."""
    loop = asyncio.get_running_loop()
    call = functools.partial(function, *args)
    try:
        pool = _executor()
    except (OSError, NotImplementedError, ImportError) as exc:
        log.warning("no worker process (%s): building in a thread", exc)
        return await asyncio.to_thread(call)
    try:
        return await loop.run_in_executor(pool, call)
    except BrokenProcessPool as exc:
        log.warning("worker process died (%s): building in a thread", exc)
        _discard(pool)
        return await asyncio.to_thread(call)


def worker_pid() -> int:
    """The worker's process id, as the worker sees it (for tests: the build is not in this process)."""
    import os

    return os.getpid()

"""Run a parser over a file we did not write in a child process with a time and a memory limit.

A hostile upload (a sheet claiming a million rows, a zip bomb, a cell spanning five million columns)
must cost one clear line to the person who sent it and nothing to anyone else. So parsing never runs on
the event loop, nor in a thread of the bot's process: `run_bounded(func, *args)` starts a fresh child,
limits its address space (`RLIMIT_AS`) and CPU time (`RLIMIT_CPU`, a backstop should this process die),
hands it the job through a pipe, and waits for the answer in a thread. A child that overruns its time is
killed; one that runs out of memory answers `SandboxMemory` (or dies, which is reported the same way).
Exceptions the job raises itself (`PlanImportError`, `DirectoryImportError`) come back as they are.

Children are forked from a small "forkserver" process that has the importers already loaded, so a
child costs a fork, not a Python start-up, and never inherits the bot's threads, sockets or database
connections. At most `MAX_CHILDREN` parses run at once; more wait their turn in their own thread.

`func` and its arguments must be picklable (a module-level function; bytes, str, dataclasses).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import resource
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from core.i18n import _, ngettext

log = logging.getLogger(__name__)

T = TypeVar("T")

# Loaded once in the fork server, so each child starts with them (ImportErrors there are ignored);
# "__main__" so that children do not each import the main script again.
PRELOAD = ["__main__", "plans.importer", "directory.importer", "directory.import_job", "directory.saving", "storage.db"]
PRELOAD += ["storage.directory", "aiosqlite", "asyncpg", "openpyxl", "docx"]
PRELOAD += ["core.ingest.read", "xlrd", "pdfplumber", "lxml.html"]  # the other formats' readers
MAX_CHILDREN = 2  # the bot's host may have two cores; more parses queue rather than thrash
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How long and how much memory one parse may take. The defaults are far above what a real plan
    or register needs (a 50,000-row register reads in a few seconds and well under 500 MB)."""

    seconds: float = 60.0
    memory_bytes: int = 1024 * MB  # address space of the whole child, interpreter included

    @property
    def memory_mb(self) -> int:
        return self.memory_bytes // MB


PLAN_LIMITS = Limits(seconds=60.0, memory_bytes=1024 * MB)
DIRECTORY_LIMITS = Limits(seconds=180.0, memory_bytes=2048 * MB)


class SandboxError(Exception):
    """The job did not finish within its limits; str() is a translated sentence for the user."""


class SandboxTimeout(SandboxError):
    def __init__(self, limits: Limits):
        seconds = int(limits.seconds)
        super().__init__(
            ngettext(
                "reading the file took longer than {seconds} second, so I stopped",
                "reading the file took longer than {seconds} seconds, so I stopped",
                seconds,
            ).format(seconds=seconds)
        )


class SandboxMemory(SandboxError):
    def __init__(self, limits: Limits):
        super().__init__(
            _("reading the file needed more than {mb} MB of memory, so I stopped").format(mb=limits.memory_mb)
        )


class SandboxCrash(SandboxError):
    def __init__(self) -> None:
        super().__init__(_("reading the file failed unexpectedly, so I stopped"))


# Called with each child's pid once it exists, before it has its job: for monitoring, and for tests
# that hold a child still (SIGSTOP) to show that the bot goes on answering others meanwhile.
observers: list[Callable[[int], None]] = []


_context_lock = threading.Lock()
_context: Any = None
_slots = threading.BoundedSemaphore(MAX_CHILDREN)


def _get_context() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _context = ctx
        return _context


def _child(conn: multiprocessing.connection.Connection, memory_bytes: int, seconds: float) -> None:
    """The child's whole life: limit itself, take the job, send back ("ok", result) or the failure."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    cpu = int(seconds) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    result: Any = None
    outcome: tuple[str, Any]
    try:
        func, args = conn.recv()
        result = func(*args)
    except MemoryError:
        outcome = ("memory", None)
    except Exception as exc:  # noqa: BLE001 - everything goes back to the parent, which decides
        outcome = ("error", exc)
    except BaseException as exc:  # noqa: BLE001 - SystemExit and the like must not leave the parent
        outcome = ("error", RuntimeError(f"{type(exc).__name__}: {exc}"))
    else:
        outcome = ("ok", result)
    del result
    try:
        conn.send(outcome)
    except MemoryError:
        conn.send(("memory", None))
    except Exception as exc:  # noqa: BLE001 - an exception that does not pickle: send its text
        conn.send(("error", RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]} ({exc})")))
    finally:
        conn.close()


def run_bounded_sync(
    func: Callable[..., T], *args: Any, limits: Limits = PLAN_LIMITS, started: Callable[[int], None] | None = None
) -> T:
    """`func(*args)` in a limited child process (blocking; see `run_bounded`). `started(pid)` is called
    once the child exists and before it has the job (tests use it to hold the child still)."""
    ctx = _get_context()
    with _slots:
        parent, child = ctx.Pipe(duplex=True)
        process = ctx.Process(
            target=_child, args=(child, limits.memory_bytes, limits.seconds), daemon=True, name="partnerbot-sandbox"
        )
        process.start()
        child.close()
        try:
            for observer in [*observers, *([started] if started is not None else [])]:
                observer(process.pid)
            try:
                parent.send((func, args))
                if not parent.poll(limits.seconds):
                    log.warning("sandboxed %s overran %.0f s; killed", getattr(func, "__name__", func), limits.seconds)
                    raise SandboxTimeout(limits)
                status, payload = parent.recv()
            except (EOFError, BrokenPipeError, ConnectionResetError):
                # The child died without answering: killed by its CPU limit, or by the allocator when
                # its address space ran out before Python could raise MemoryError.
                process.join(5)
                log.warning("sandboxed %s died (exit code %s)", getattr(func, "__name__", func), process.exitcode)
                code = process.exitcode
                if code is not None and -code in (signal.SIGKILL, signal.SIGXCPU):  # the CPU backstop
                    raise SandboxTimeout(limits) from None
                if code is not None and -code in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS):
                    raise SandboxMemory(limits) from None  # an allocation failed where Python could not see it
                raise SandboxCrash() from None
        finally:
            if process.is_alive():
                process.kill()
            process.join(5)
            parent.close()
    if status == "ok":
        return payload
    if status == "memory":
        raise SandboxMemory(limits)
    raise payload


async def run_bounded(
    func: Callable[..., T], *args: Any, limits: Limits = PLAN_LIMITS, started: Callable[[int], None] | None = None
) -> T:
    """`func(*args)` in a child process with `limits`, awaited without blocking the event loop.
    Raises SandboxTimeout / SandboxMemory (translated messages), or whatever `func` raised."""
    return await asyncio.to_thread(run_bounded_sync, func, *args, limits=limits, started=started)

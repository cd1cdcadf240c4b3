"""Jobs for tests/test_sandbox.py, in a module of their own so the sandbox's child imports only this
(not the test module with the whole bot behind it)."""

from __future__ import annotations

import os

MB = 1024 * 1024


def double(value: int) -> int:
    return value * 2


def refuse(reason: str) -> None:
    from plans.parsed import PlanImportError

    raise PlanImportError(reason)


def allocate_gigabyte() -> int:
    return len(bytearray(1024 * MB))


def spin() -> None:
    while True:
        pass


def die() -> None:
    os._exit(3)

"""Reading a plan file the one way both the chat and the command line do: in the sandbox.

`read_plan(data, filename, overrides)` parses in a child process with a time and memory limit
(core.sandbox), so a hostile file costs its sender one clear line and nobody else waits. It raises
`PlanImportError` (the file holds no plan, or is over a size limit) or `SandboxError` (the parse overran
its limits); both carry a translated sentence.
"""

from __future__ import annotations

from core.sandbox import PLAN_LIMITS, Limits, SandboxError, run_bounded, run_bounded_sync
from plans.parsed import ParsedPlan, PlanImportError, PlanOverrides

__all__ = ["PlanReadErrors", "read_plan", "read_plan_sync"]

PlanReadErrors = (PlanImportError, SandboxError)


def _parse_job(data: bytes, filename: str, overrides: dict | None) -> ParsedPlan:
    """Runs in the child (module-level, so it pickles)."""
    from plans.importer import parse_plan

    return parse_plan(data, filename, PlanOverrides.from_dict(overrides) if overrides else None)


async def read_plan(
    data: bytes, filename: str, overrides: PlanOverrides | None = None, limits: Limits = PLAN_LIMITS
) -> ParsedPlan:
    return await run_bounded(_parse_job, data, filename, overrides.to_dict() if overrides else None, limits=limits)


def read_plan_sync(
    data: bytes, filename: str, overrides: PlanOverrides | None = None, limits: Limits = PLAN_LIMITS
) -> ParsedPlan:
    return run_bounded_sync(_parse_job, data, filename, overrides.to_dict() if overrides else None, limits=limits)

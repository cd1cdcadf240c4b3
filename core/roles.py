"""Roles, ordered: who may do what (the manifests declare one per command and button; storage keeps it by
name on each member)."""

from __future__ import annotations

import enum


class Role(enum.IntEnum):
    """Ordered: a higher role can do everything a lower one can."""

    STRANGER = 0
    MEMBER = 10
    LEAD = 20
    COORDINATOR = 30
    ADMIN = 40

    @classmethod
    def parse(cls, value: str) -> Role:
        return cls[value.strip().upper()]

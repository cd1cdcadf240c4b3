"""Every model, imported in one place so metadata is complete for Alembic and tests."""

from storage.base import Base
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.desk import AccessRequestCopy, ButtonUse, DeskState
from storage.directory import (
    DESIGNATIONS,
    PHASES,
    DirectoryVersion,
    EntryChange,
    Person,
    School,
    Specialism,
    person_specialism,
)
from storage.members import AccessRequest, AuditEntry, BotState, Member, Role, Throttle
from storage.plans import (
    Action,
    ActionOwner,
    Holiday,
    Plan,
    PlanCoordinator,
    PlanMeeting,
    ProgressUpdate,
    ReminderSent,
    Section,
)
from storage.sends import SendClaim
from storage.support import SupportDay, SupportDeployment, SupportImpact, SupportLeader, SupportRequest

__all__ = [
    "AccessRequest",
    "AccessRequestCopy",
    "Action",
    "ActionOwner",
    "Appointment",
    "AuditEntry",
    "Base",
    "BotState",
    "BuddyMatch",
    "ButtonUse",
    "CheckIn",
    "DESIGNATIONS",
    "DeskState",
    "DirectoryVersion",
    "EntryChange",
    "Holiday",
    "Member",
    "PHASES",
    "Person",
    "Plan",
    "PlanCoordinator",
    "PlanMeeting",
    "ProgressUpdate",
    "ReminderSent",
    "Role",
    "School",
    "Section",
    "SendClaim",
    "Specialism",
    "SupportDay",
    "SupportDeployment",
    "SupportImpact",
    "SupportLeader",
    "SupportRequest",
    "Throttle",
    "person_specialism",
]

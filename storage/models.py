"""Every model, imported in one place so metadata is complete for Alembic and tests."""

from storage.base import Base
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.directory import DESIGNATIONS, PHASES, Person, School, Specialism, person_specialism
from storage.directory_version import DirectoryVersion
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

__all__ = [
    "AccessRequest", "Action", "ActionOwner", "Appointment", "AuditEntry", "Base", "BotState", "BuddyMatch",
    "CheckIn", "DESIGNATIONS", "DirectoryVersion",
    "Holiday", "Member", "PHASES", "Person", "Plan", "PlanCoordinator", "PlanMeeting",
    "ProgressUpdate", "ReminderSent", "Role", "School", "Section", "Specialism", "Throttle", "person_specialism",
]

"""Every table, imported in one place for Alembic and for create-on-test."""

from fieldpunch.alerts.models import AlertSettings
from fieldpunch.anomalies.models import Anomaly, PolicyOverride
from fieldpunch.attendance.days_models import AttendanceDay
from fieldpunch.attendance.models import (
    AttendanceGroup,
    AttendanceRequest,
    CalendarDay,
    DirtyDay,
    GroupPlace,
    GroupTeam,
    GroupUser,
    RosterEntry,
    Shift,
)
from fieldpunch.auditlog.models import AuditEvent
from fieldpunch.auth.models import ApiKey, RefreshToken
from fieldpunch.cells.models import Cell
from fieldpunch.corrections.models import Correction
from fieldpunch.customers.models import Customer
from fieldpunch.db.base import Base
from fieldpunch.devices.models import Device
from fieldpunch.jobs.models import Job, OutboxCursor, OutboxEvent, Schedule
from fieldpunch.notify.models import (
    Notification,
    NotificationPreference,
    PushSubscription,
    RobotTarget,
)
from fieldpunch.orgs.models import Org
from fieldpunch.photos.models import Photo
from fieldpunch.places.models import Place
from fieldpunch.punches.models import LedgerCheckpoint, LedgerEntry, LedgerHead, Punch
from fieldpunch.tasks.models import Task, TaskComment
from fieldpunch.teams.models import Team
from fieldpunch.users.models import ManagedTeam, User
from fieldpunch.visits.models import Visit, VisitField, VisitOutcome, VisitPunch

__all__ = [
    "AlertSettings",
    "Anomaly",
    "ApiKey",
    "AttendanceDay",
    "AttendanceGroup",
    "AttendanceRequest",
    "AuditEvent",
    "Base",
    "CalendarDay",
    "Cell",
    "Correction",
    "Customer",
    "Device",
    "DirtyDay",
    "GroupPlace",
    "GroupTeam",
    "GroupUser",
    "Job",
    "LedgerCheckpoint",
    "LedgerEntry",
    "LedgerHead",
    "ManagedTeam",
    "Notification",
    "NotificationPreference",
    "Org",
    "OutboxCursor",
    "OutboxEvent",
    "Photo",
    "Place",
    "PolicyOverride",
    "Punch",
    "PushSubscription",
    "RefreshToken",
    "RobotTarget",
    "RosterEntry",
    "Schedule",
    "Shift",
    "Task",
    "TaskComment",
    "Team",
    "User",
    "Visit",
    "VisitField",
    "VisitOutcome",
    "VisitPunch",
]

"""Every table, imported in one place for Alembic and for create-on-test."""

from fieldpunch.anomalies.models import Anomaly, PolicyOverride
from fieldpunch.auditlog.models import AuditEvent
from fieldpunch.auth.models import ApiKey
from fieldpunch.cells.models import Cell
from fieldpunch.corrections.models import Correction
from fieldpunch.customers.models import Customer
from fieldpunch.db.base import Base
from fieldpunch.devices.models import Device
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.orgs.models import Org
from fieldpunch.places.models import Place
from fieldpunch.punches.models import LedgerCheckpoint, LedgerEntry, LedgerHead, Punch
from fieldpunch.teams.models import Team
from fieldpunch.users.models import ManagedTeam, User

__all__ = [
    "Anomaly",
    "ApiKey",
    "AuditEvent",
    "Base",
    "Cell",
    "Correction",
    "Customer",
    "Device",
    "LedgerCheckpoint",
    "LedgerEntry",
    "LedgerHead",
    "ManagedTeam",
    "Org",
    "OutboxEvent",
    "Place",
    "PolicyOverride",
    "Punch",
    "Team",
    "User",
]

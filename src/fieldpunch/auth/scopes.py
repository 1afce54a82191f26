"""What each role may do, as scopes; API keys carry an explicit subset."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    manager = "manager"
    staff = "staff"


class Scope(StrEnum):
    org_read = "org:read"
    org_write = "org:write"
    users_read = "users:read"
    users_write = "users:write"
    teams_read = "teams:read"
    teams_write = "teams:write"
    places_read = "places:read"
    places_write = "places:write"
    customers_read = "customers:read"
    customers_write = "customers:write"
    devices_read = "devices:read"
    devices_write = "devices:write"
    punches_read = "punches:read"
    punches_write = "punches:write"
    anomalies_read = "anomalies:read"
    anomalies_review = "anomalies:review"
    policy_read = "policy:read"
    policy_write = "policy:write"
    corrections_read = "corrections:read"
    corrections_request = "corrections:request"
    corrections_review = "corrections:review"
    # Attendance: the rules (shifts, groups, calendar), rosters, and requests (leave, overtime).
    attendance_read = "attendance:read"
    attendance_write = "attendance:write"
    attendance_roster = "attendance:roster"
    attendance_request = "attendance:request"
    attendance_review = "attendance:review"
    # Visits: plans and records (staff their own); the org's outcomes and visit form (admins).
    visits_read = "visits:read"
    visits_write = "visits:write"
    visits_configure = "visits:configure"
    tasks_read = "tasks:read"
    tasks_write = "tasks:write"
    api_keys_manage = "api_keys:manage"
    audit_read = "audit:read"
    # One's own inbox, preferences and push subscriptions (every person).
    notifications_read = "notifications:read"
    notifications_write = "notifications:write"
    # Robots, alert settings and the job queue of the org (admins).
    alerts_manage = "alerts:manage"


ALL = frozenset(Scope)
# The audit log is for admins (and keys they grant it to), not for every reader.
_READ = frozenset(s for s in Scope if s.value.endswith(":read")) - {Scope.audit_read}

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.admin: ALL,
    Role.manager: _READ
    | {
        Scope.customers_write,
        Scope.devices_write,
        Scope.punches_write,
        Scope.anomalies_review,
        Scope.corrections_request,
        Scope.corrections_review,
        Scope.attendance_roster,
        Scope.attendance_request,
        Scope.attendance_review,
        Scope.visits_write,
        Scope.tasks_write,
        Scope.notifications_write,
    },
    Role.staff: _READ
    | {
        Scope.devices_write,
        Scope.punches_write,
        Scope.corrections_request,
        Scope.attendance_request,
        Scope.visits_write,
        Scope.tasks_write,
        Scope.notifications_write,
    },
}

# One's own inbox: a person's, never a key's, and no right over anyone else.
PERSONAL = frozenset({Scope.notifications_read, Scope.notifications_write})

# A key cannot mint keys: that stays with a person who can be held to account.
# Nor hold an inbox: notifications belong to people.
API_KEY_GRANTABLE = ALL - {Scope.api_keys_manage} - PERSONAL


def rights_of(role: Role) -> frozenset[Scope]:
    """What giving someone `role` (or acting on someone who has it) hands over: the role's
    scopes but the personal ones. A caller may do either only while holding all of them."""
    return ROLE_SCOPES[role] - PERSONAL

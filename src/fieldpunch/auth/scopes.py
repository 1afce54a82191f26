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
        Scope.notifications_write,
    },
    Role.staff: _READ
    | {
        Scope.devices_write,
        Scope.punches_write,
        Scope.corrections_request,
        Scope.notifications_write,
    },
}

# A key cannot mint keys: that stays with a person who can be held to account.
# Nor hold an inbox: notifications belong to people.
API_KEY_GRANTABLE = ALL - {
    Scope.api_keys_manage,
    Scope.notifications_read,
    Scope.notifications_write,
}

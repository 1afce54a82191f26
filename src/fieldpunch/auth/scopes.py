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
    api_keys_manage = "api_keys:manage"


ALL = frozenset(Scope)
_READ = frozenset(s for s in Scope if s.value.endswith(":read"))

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.admin: ALL,
    Role.manager: _READ | {Scope.customers_write, Scope.devices_write, Scope.punches_write},
    Role.staff: _READ | {Scope.devices_write, Scope.punches_write},
}

# A key cannot mint keys: that stays with a person who can be held to account.
API_KEY_GRANTABLE = ALL - {Scope.api_keys_manage}

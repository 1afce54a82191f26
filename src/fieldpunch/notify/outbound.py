"""Which URLs this server may call: robot webhooks and push endpoints (a guard against SSRF).

The URLs come from org admins (robots) and browsers (push subscriptions), so they are checked
when they are stored and again before every call (the allow-list may have changed since):

- the vendors' and push services' own hosts: `https` on the default port (443) only;
- `FIELDPUNCH_OUTBOUND_ALLOW_HOSTS` entries, each `host` or `.suffix` (its subdomains) with an
  optional scheme and port: `chat.corp.cn` and `.corp.cn` are https on 443, like the vendors;
  `chat.corp.cn:8443` that port; `http://chat.lan:8065` plain http on that one port only;
- never a user name or password in the URL, a backslash, or a URL that Python's parser and the
  HTTP client's read differently (the host checked must be the host called).

Redirects are not followed (the job runner's client), so an allowed host cannot bounce a call
elsewhere. Host names are compared, not resolved: an allow-listed name is the operator's word.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True, slots=True)
class Rule:
    """An allowed host (or `.suffix`), on one scheme and port."""

    host: str
    scheme: str = "https"
    port: int = 443

    def matches(self, scheme: str, host: str, port: int) -> bool:
        if (scheme, port) != (self.scheme, self.port):
            return False
        if self.host.startswith("."):
            return host.endswith(self.host) and len(host) > len(self.host)
        return host == self.host


def parse_rule(entry: str) -> Rule | None:
    """An allow-list entry as a rule; None when it cannot be read (then it allows nothing)."""
    entry = entry.strip().lower()
    if not entry:
        return None
    scheme = "https"
    if "://" in entry:
        scheme, entry = entry.split("://", 1)
        if scheme not in DEFAULT_PORTS:
            return None
    suffix = entry.startswith(".")
    try:
        parts = urlsplit(f"{scheme}://{entry.lstrip('.')}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or parts.path not in ("", "/") or parts.query or parts.username is not None:
        return None
    return Rule(f".{host}" if suffix else host, scheme, port or DEFAULT_PORTS[scheme])


def rules(vendor_hosts: tuple[str, ...], allow_list: tuple[str, ...]) -> tuple[Rule, ...]:
    built_in = tuple(Rule(h) for h in vendor_hosts)  # https on 443, whatever else they serve
    extra = tuple(r for r in (parse_rule(e) for e in allow_list) if r is not None)
    return built_in + extra


def refusal(url: str, vendor_hosts: tuple[str, ...], allow_list: tuple[str, ...]) -> str | None:
    """Why this URL may not be called, or None when it may."""
    if "\\" in url or any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        return "must not contain spaces, control characters or backslashes"
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
        if parts.username is not None or parts.password is not None:
            return "must not carry a user name or password"
        if scheme not in DEFAULT_PORTS or not host:
            return "must be an https:// URL with a host"
        called = httpx.URL(url)
        called_host = called.raw_host.decode("ascii").lower()
    except (ValueError, httpx.InvalidURL, UnicodeError) as exc:
        return f"not a valid URL: {exc}"
    port = port or DEFAULT_PORTS[scheme]
    # The host and port checked here must be the ones the HTTP client connects to.
    if (called.scheme, called_host, called.port or DEFAULT_PORTS[called.scheme]) != (
        scheme,
        host,
        port,
    ):
        return "not a valid URL: read differently by the HTTP client"
    allowed = rules(vendor_hosts, allow_list)
    if any(r.matches(scheme, host, port) for r in allowed):
        return None
    places = sorted(
        {_place(r.scheme, host, r.port) for r in allowed if r.matches(r.scheme, host, r.port)}
    )
    if places:  # the right host, the wrong scheme or port
        return f"must be {' or '.join(places)}, not {_place(scheme, host, port)}"
    return f"{host} is not an allowed host"


def _place(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://{host}{_port_of(scheme, port)}"


def _port(rule: Rule) -> str:
    return _port_of(rule.scheme, rule.port)


def _port_of(scheme: str, port: int) -> str:
    return "" if DEFAULT_PORTS[scheme] == port else f":{port}"


def describe(vendor_hosts: tuple[str, ...], allow_list: tuple[str, ...]) -> str:
    """The allowed places, for an error message: `https://a.example, http://b.lan:8065`."""
    return ", ".join(
        f"{r.scheme}://{'*' if r.host.startswith('.') else ''}{r.host}{_port(r)}"
        for r in rules(vendor_hosts, allow_list)
    )

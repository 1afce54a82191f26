"""The OpenAPI document as the server answers: every error, every status, the scope it needs.

FastAPI describes what a handler returns and its own 422 (as `HTTPValidationError`, which this
API never sends). What else a route answers follows from what it depends on, so it is derived
here from each route once, when the document is first built, rather than listed by hand:

| the route ... | answers also |
| --- | --- |
| needs a caller (`auth.principal.current_principal`) | 401 (no valid token), 403 (not allowed) |
| needs a permission (`need(Scope.x)`) | the scope, named in its description and `security` |
| has a path parameter | 404 (no such thing in the caller's organization) |
| takes parameters or a body | 422 (`ValidationProblem`) |
| takes a body | 400 (unreadable), 413 (too large), 408 (not in time: kit/bodyguard.py) |
| runs in a transaction (`db.session.TxRoute`) | 503 `busy` with `Retry-After` |

A route adds what only it answers (409, 429, ...) with `responses=` and `PROBLEM` as content.
Every answer of 400 or more is `application/problem+json` with the `Problem` schema.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute

from fieldpunch.auth.principal import current_principal
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import TxRoute
from fieldpunch.kit.errors import PROBLEM_JSON, Problem, ValidationProblem

_REF = "#/components/schemas/{model}"
PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
"""`responses={409: {"description": ..., **PROBLEM}}`: a problem+json answer (schema filled in)."""


def answer(description: str, **extra: Any) -> dict[str, Any]:
    """A route's own problem+json answer: `responses={409: answer("already decided")}`."""
    return {"description": description, **PROBLEM, **extra}


_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}

# FastAPI names a form or multipart body after its operation (`Body_issue_token`).
BODY_NAMES = {"Body_issue_token": "PasswordGrant", "Body_upload_photo": "PhotoUpload"}
_PAGE = re.compile(r"Page_(\w+?)(?:Out)?_")  # Pydantic's name for Page[PunchOut]


def clean_name(name: str) -> str:
    """A schema's name for clients: `PunchPage` for `Page_PunchOut_`, forms by BODY_NAMES."""
    if page := _PAGE.fullmatch(name):
        return f"{page.group(1)}Page"
    return BODY_NAMES.get(name, name)


@dataclass(slots=True)
class Needs:
    """What a route depends on, as far as its answers go."""

    caller: bool = False
    scopes: list[str] = field(default_factory=list)
    path_params: bool = False
    params: bool = False
    body: bool = False
    transaction: bool = False


def _dependants(d: Dependant) -> Iterator[Dependant]:
    yield d
    for sub in d.dependencies:
        yield from _dependants(sub)


def _scope_of(call: Callable[..., Any] | None) -> Scope | None:
    """The scope a `need(scope)` check demands (its closure's `scope`)."""
    if not getattr(call, "__qualname__", "").startswith("need.") or call is None:
        return None
    scope = inspect.getclosurevars(call).nonlocals.get("scope")
    return scope if isinstance(scope, Scope) else None


def needs(route: RouteContext) -> Needs:
    """What `route` (as included, with its routers' dependencies) depends on."""
    out = Needs(transaction=isinstance(route.original_route, TxRoute))
    for d in _dependants(route.dependant):
        if d.call is current_principal:
            out.caller = True
        if (scope := _scope_of(d.call)) is not None and scope.value not in out.scopes:
            out.scopes.append(scope.value)
        out.path_params |= bool(d.path_params)
        out.params |= bool(d.path_params or d.query_params or d.header_params or d.cookie_params)
        out.body |= bool(d.body_params)
    return out


def _problem(description: str, schema: str = "Problem", **extra: Any) -> dict[str, Any]:
    ref = {"$ref": _REF.format(model=schema)}
    return {"description": description, "content": {PROBLEM_JSON: {"schema": ref}}, **extra}


def derived(n: Needs) -> dict[str, dict[str, Any]]:
    """The answers a route with these needs may give beyond its own declarations."""
    out: dict[str, dict[str, Any]] = {}
    if n.caller:
        out["401"] = _problem(
            "No valid bearer token: missing, malformed, expired or revoked",
            headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
        )
        needed = " and ".join(f"`{s}`" for s in n.scopes)
        out["403"] = _problem(
            f"The caller lacks the {needed} permission, or may not act on this"
            if n.scopes
            else "The caller may not do this (e.g. an API key where a person is needed)"
        )
    if n.path_params:
        out["404"] = _problem("Not found in the caller's organization (or not visible to them)")
    if n.body:
        out["400"] = _problem("The body cannot be read as the declared media type (e.g. bad JSON)")
        out["408"] = _problem("The body did not arrive in time")
        out["413"] = _problem("The body is larger than this operation takes")
    if n.params or n.body:
        out["422"] = _problem(
            "Invalid input: each field at fault is named in `errors`", "ValidationProblem"
        )
    if n.transaction:
        out["503"] = _problem(
            "The database is busy: retry after `Retry-After` seconds", headers=_RETRY_AFTER
        )
    return out


def _components() -> dict[str, Any]:
    _, top = models_json_schema(
        [(Problem, "serialization"), (ValidationProblem, "serialization")], ref_template=_REF
    )
    return dict(top["$defs"])


def _rename(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                _REF.format(model=names.get(v.rsplit("/", 1)[-1], v.rsplit("/", 1)[-1]))
                if k == "$ref" and isinstance(v, str) and v.startswith("#/components/schemas/")
                else _rename(v, names)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rename(v, names) for v in node]
    return node


def describe(spec: dict[str, Any], routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """`spec` (FastAPI's document for `routes`) made to say what the routes answer."""
    ops: dict[tuple[str, str], dict[str, Any]] = {
        (method, path): op for path, item in spec["paths"].items() for method, op in item.items()
    }
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            op = ops.get((method.lower(), route.path_format or ""))
            if op is None:
                continue
            n = needs(route)
            n.body |= "requestBody" in op  # a body read by the handler itself (openapi_extra)
            responses = op.setdefault("responses", {})
            for status, answer in derived(n).items():
                if status == "422" or status not in responses:  # FastAPI's 422 is not ours
                    responses[status] = answer
            for status, answer in responses.items():
                content = answer.setdefault("content", {}) if int(status) >= 400 else {}
                if int(status) >= 400 and not any(c.get("schema") for c in content.values()):
                    content.clear()
                    content[PROBLEM_JSON] = {"schema": {"$ref": _REF.format(model="Problem")}}
            op["responses"] = dict(sorted(responses.items()))
            if n.scopes:
                op["security"] = [
                    {name: list(n.scopes) for name in alt} for alt in op.get("security", [])
                ]
                needed = ", ".join(f"`{s}`" for s in n.scopes)
                op["description"] = (
                    op.get("description", "").rstrip() + f"\n\nNeeds the {needed} permission."
                ).lstrip()
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(_components())
    names = {old: clean_name(old) for old in schemas if clean_name(old) != old}
    for old, new in names.items():
        if new in schemas:
            raise ValueError(f"two schemas would be named {new}: rename one")
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new
    spec["paths"] = _rename(spec["paths"], names)
    spec["components"]["schemas"] = _rename(dict(sorted(schemas.items())), names)
    return spec


def install(app: FastAPI) -> None:
    """Serve `describe`'s document at `app.openapi_url` (built once, on first use)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe(generate(), app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import JSONResponse

from fieldpunch.auth import rotation, service
from fieldpunch.auth.models import ApiKey
from fieldpunch.auth.principal import Caller, Principal, need
from fieldpunch.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    MeOut,
    RefreshIn,
    TokenOut,
)
from fieldpunch.auth.scopes import Scope
from fieldpunch.auth.throttle import LoginThrottle
from fieldpunch.db.scoped import get_scoped
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.pagination import Page, PageParams
from fieldpunch.users import service as users
from fieldpunch.users.schemas import MeUpdate, UserOut

router = APIRouter(tags=["auth"], route_class=TxRoute)
keys = APIRouter(prefix="/api-keys", tags=["api keys"], route_class=TxRoute)
KeyAdmin = Annotated[Principal, need(Scope.api_keys_manage)]


_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def _no_store(response: Response) -> None:
    """An answer carrying a token or a key's secret: no cache may keep it (RFC 6749 §5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


NoStore = [Depends(_no_store)]


def _throttle(request: Request) -> LoginThrottle:
    return request.app.state.login_throttle  # type: ignore[no-any-return]


def _client_ip(request: Request) -> str:
    # Behind a reverse proxy this is the forwarded address when uvicorn trusts the proxy
    # (FORWARDED_ALLOW_IPS); otherwise every client looks like the proxy: see docs/deploy.md.
    return request.client.host if request.client else "unknown"


@router.post(
    "/auth/token",
    dependencies=NoStore,
    responses={
        401: {"description": "Wrong email, phone or password", **_PROBLEM},
        409: {
            "description": "The email and password sign in to several organizations: send "
            "`org_id` as well (the problem's `errors` lists them)",
            **_PROBLEM,
        },
        429: {
            "description": "Too many failed sign-ins from this address (for this email or "
            "in all); `Retry-After` says when to try again",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            **_PROBLEM,
        },
    },
)
async def issue_token(
    request: Request,
    session: Session,
    username: Annotated[
        str,
        Form(
            max_length=320,
            description="email, or the phone number stored for the person (spaces, dashes "
            "and a +86 prefix are ignored)",
        ),
    ],
    password: Annotated[str, Form(max_length=256)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
    org_id: Annotated[
        str | None,
        Form(
            max_length=40,
            description="Only when one email and password open accounts in several "
            "organizations: which one",
        ),
    ] = None,
) -> TokenOut:
    """OAuth2 password grant: email or phone number and password for an access and a refresh
    token."""
    return await service.login(
        session,
        request.app.state.settings,
        _throttle(request),
        username,
        password,
        _client_ip(request),
        org_id,
    )


@router.post(
    "/auth/refresh",
    response_model=TokenOut,
    dependencies=NoStore,
    responses={401: {"description": "Invalid, expired, revoked or reused token", **_PROBLEM}},
)
async def refresh_token(
    request: Request, session: Session, body: RefreshIn
) -> TokenOut | JSONResponse:
    """A new access token and a new refresh token; the one sent is used up.

    Keep the new refresh token: sending a used one again revokes the whole sign-in (both the
    one sent and every newer one), since it means someone else holds a copy.
    """
    try:
        return await service.refresh(session, request.app.state.settings, body.refresh_token)
    except rotation.Reused as reused:
        # The revocation is in this request's transaction: answer, don't raise, so it commits.
        return reused.response()


@router.post("/auth/logout", status_code=204, response_class=Response)
async def logout(request: Request, session: Session, body: RefreshIn) -> None:
    """Sign out: revoke the sign-in this refresh token belongs to (every token rotated from it).

    Idempotent: an unknown, expired or already revoked token answers 204 as well. Access tokens
    already issued stay valid until they expire (`expires_in`); discard them.
    """
    await service.logout(session, request.app.state.settings, body.refresh_token)


@router.get("/me")
async def get_me(session: Session, p: Caller) -> MeOut:
    """The caller: their user, role, organization and team (an API key: its organization and
    scopes)."""
    return await service.me(session, p)


@router.patch("/me")
async def update_me(session: Session, p: Caller, body: MeUpdate) -> UserOut:
    """Change your own name, phone or password (the password needs the current one)."""
    return await users.update_me(session, p, body)


@keys.get("", response_model=Page[ApiKeyOut])
async def list_api_keys(
    session: Session, p: KeyAdmin, page: Annotated[PageParams, Depends()]
) -> dict[str, object]:
    """The organization's integration keys (never their secrets), newest last."""
    return await service.list_keys(session, p, page)


@keys.post("", status_code=201, dependencies=NoStore)
async def create_api_key(session: Session, p: KeyAdmin, body: ApiKeyCreate) -> ApiKeyCreated:
    """A new integration key with the scopes given (at most the creator's own); its secret is in
    this answer only."""
    return await service.create_key(session, p, body)


@keys.get("/{key_id}")
async def get_api_key(session: Session, p: KeyAdmin, key_id: str) -> ApiKeyOut:
    """One integration key (without its secret)."""
    return ApiKeyOut.model_validate(
        await get_scoped(session, ApiKey, p.org_id, key_id, what="api key")
    )


@keys.delete("/{key_id}", status_code=204, response_class=Response)
async def revoke_api_key(session: Session, p: KeyAdmin, key_id: str) -> None:
    """Revoke an integration key: requests carrying it are refused (401) from now on."""
    await service.revoke_key(session, p, key_id)

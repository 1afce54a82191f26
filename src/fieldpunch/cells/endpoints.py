from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.cells import service
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.errors import ProblemError

router = APIRouter(prefix="/cells", tags=["cells"], route_class=TxRoute)
MAX_BYTES = 64 * 1024 * 1024


class TooLarge(ProblemError):
    status, slug, title = 413, "too-large", "Payload too large"


@router.post(
    "/import",
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def import_cells(
    request: Request,
    session: Session,
    p: Annotated[Principal, need(Scope.places_write)],
    dry_run: Annotated[bool, Query(description="Validate only")] = False,
) -> dict[str, Any]:
    """Cell towers as OpenCelliD CSV (radio,mcc,net,area,cell,unit,lon,lat,range,…); all or none."""
    body = await request.body()
    if len(body) > MAX_BYTES:
        raise TooLarge(f"at most {MAX_BYTES // (1024 * 1024)} MiB per import; split the file")
    result = await service.import_csv(
        session, p.org_id, body.decode("utf-8", errors="replace"), dry_run=dry_run
    )
    return {"rows": result.rows, "dry_run": result.dry_run}


@router.get("/stats")
async def cell_stats(
    session: Session, p: Annotated[Principal, need(Scope.places_read)]
) -> dict[str, Any]:
    """How many cell towers this organization has imported, by radio."""
    return await service.stats(session, p.org_id)

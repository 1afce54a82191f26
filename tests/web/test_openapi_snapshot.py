"""The field app's API snapshot (web/openapi.json → src/api/schema.d.ts) still fits the server.

The app's TypeScript types come from a committed snapshot. This test reads which operations the
app calls (from its source) and checks, against the live document: each exists; every field the
server requires in a request is known to the snapshot; every field of an answer the snapshot
promises is still answered. Refresh with `make api-snapshot` when it fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fieldpunch.app import create_app
from fieldpunch.config import load_settings

WEB = Path(__file__).resolve().parents[2] / "web"
CALL = re.compile(r"api\.(GET|POST|PATCH|PUT|DELETE)\('(/api/v1/[^']*)'")
RAW = {
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("post", "/api/v1/photos"),
    ("get", "/api/v1/photos/{photo_id}/content"),
}


def _used() -> set[tuple[str, str]]:
    found = set(RAW)
    for path in (WEB / "src").rglob("*"):
        if path.suffix in (".ts", ".vue") and not path.name.endswith(".d.ts"):
            for method, url in CALL.findall(path.read_text(encoding="utf-8")):
                found.add((method.lower(), url))
    return found


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _body(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("requestBody", {}).get("content", {})
    for media in content.values():
        return _resolve(spec, media.get("schema", {}))
    return None


def _answer(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    for status in ("200", "201"):
        media = op.get("responses", {}).get(status, {}).get("content", {})
        if "application/json" in media:
            return _resolve(spec, media["application/json"].get("schema", {}))
    return None


def test_the_apps_operations_still_fit_the_server(tmp_path: Path) -> None:
    live = create_app(load_settings(data_dir=tmp_path, secret_key="x" * 32)).openapi()
    snapshot = json.loads((WEB / "openapi.json").read_text(encoding="utf-8"))
    used = _used()
    assert ("post", "/api/v1/punches/batch") in used and len(used) >= 12
    problems = []
    for method, path in sorted(used):
        op_live = live["paths"].get(path, {}).get(method)
        op_snap = snapshot["paths"].get(path, {}).get(method)
        if op_live is None or op_snap is None:
            where = "server" if op_live is None else "snapshot"
            problems.append(f"{method.upper()} {path}: missing from the {where}")
            continue
        body_live, body_snap = _body(live, op_live), _body(snapshot, op_snap)
        if body_live is not None:
            known = set((body_snap or {}).get("properties", {}))
            for name in body_live.get("required", []):
                if name not in known:
                    problems.append(f"{method.upper()} {path}: request needs {name!r}")
        answer_live, answer_snap = _answer(live, op_live), _answer(snapshot, op_snap)
        if answer_snap is not None and answer_live is not None:
            gone = set(answer_snap.get("properties", {})) - set(answer_live.get("properties", {}))
            problems.extend(f"{method.upper()} {path}: answer lost {g!r}" for g in sorted(gone))
    assert not problems, "run `make api-snapshot`: " + "; ".join(problems)

"""Write web/openapi.json from the application itself (no server needed).

    .venv/bin/python web/scripts/snapshot_openapi.py     # or: make api-snapshot

The field app's TypeScript types (src/api/schema.d.ts) are generated from this snapshot by
`npm run gen:api`; tests/web/test_openapi_snapshot.py fails when an operation the app calls
has changed shape on the server without the snapshot being refreshed.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from fieldpunch.app import create_app
from fieldpunch.config import load_settings


def spec() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), secret_key="x" * 32)
        return create_app(settings).openapi()


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "openapi.json"
    out.write_text(json.dumps(spec(), indent=1, ensure_ascii=False, sort_keys=False) + "\n")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()

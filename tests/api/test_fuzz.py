"""Schemathesis over the live OpenAPI document, against a real server process: no 5xx, ever,
and every answer as the document declares it (its status, content type, schema and headers).

Runs on both databases (PostgreSQL rejects inputs SQLite accepts, such as NUL characters).
Each operation gets generated valid and invalid requests as the org admin.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks

from tests.server import env_for, run, serving
from tests.services import postgres_database

# Per operation; FIELDPUNCH_FUZZ_EXAMPLES=500 for a longer hunt than the suite can afford.
EXAMPLES = int(os.environ.get("FIELDPUNCH_FUZZ_EXAMPLES", "25"))


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    extra: dict[str, str] = {}
    with postgres_database() if request.param == "postgres" else _nothing() as url:
        if url:
            extra = {"FIELDPUNCH_DATABASE_URL": url, "FIELDPUNCH_SECRET_KEY": "x" * 40}
        env = env_for(tmp_path, **extra)
        if url:
            assert run(["migrate"], env).returncode == 0
        made = run(
            [
                "create-org",
                "--name",
                "Fuzz",
                "--admin-email",
                "fuzz@example.com",
                "--admin-password",
                "fuzz-password",
            ],
            env,
        )
        assert made.returncode == 0, made.stderr
        json.loads(made.stdout)
        with serving(["serve"], env, tmp_path / "server.log") as served:
            base = served.base
            tok = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": "fuzz@example.com", "password": "fuzz-password"},
            )
            yield base, {"Authorization": f"Bearer {tok.json()['access_token']}"}


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


# A generated client relies on these: the status is one the operation declares, with the content
# type and schema declared for it (problem+json for every error), and the declared headers.
CONFORMANCE = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def test_answers_conform_to_the_document(server: tuple[str, dict[str, str]]) -> None:
    base, auth = server
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(),
            operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=base, headers=auth)
            try:
                case.validate_response(response, checks=CONFORMANCE)
            except (AssertionError, checks.FailureGroup) as exc:  # one failure, or several
                what = f"{case.method} {case.operation.path}: {response.status_code}"
                if any(f.startswith(what) for f in failures):
                    return  # one example of each is enough
                failures.append(
                    f"{what} {str(exc)[:600]}\n  {response.text[:200]}\n"
                    f"  {case.as_curl_command()[:600]}"
                )

        check()
    assert not failures, "\n".join(failures[:10])

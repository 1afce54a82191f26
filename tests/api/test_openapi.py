"""The OpenAPI document says what the server answers, so that a client generated from it works.

Each rule is read off the document itself (a path parameter, a body, a bearer requirement) and
checked against what the operation declares; tests/api/test_fuzz.py then checks the answers a
running server gives against these declarations.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from fieldpunch.app import create_app
from fieldpunch.config import load_settings
from fieldpunch.kit import errors

PROBLEM_JSON = "application/problem+json"
_NOT_PROBLEMS = {("get", "/readyz", "503")}  # readiness answers its own JSON to probes


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("openapi")
    return create_app(load_settings(data_dir=Path(tmp), secret_key="x" * 32)).openapi()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in {"get", "put", "post", "patch", "delete"}
    ]


def _schema_name(answer: dict[str, Any]) -> str | None:
    ref = answer.get("content", {}).get(PROBLEM_JSON, {}).get("schema", {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] or None


def test_every_error_is_the_problem_json_the_api_sends(spec: dict[str, Any]) -> None:
    wrong = []
    for method, path, op in _operations(spec):
        for status, answer in op["responses"].items():
            if int(status) < 400 or (method, path, status) in _NOT_PROBLEMS:
                continue
            if set(answer.get("content", {})) != {PROBLEM_JSON}:
                wrong.append(f"{method} {path} {status}: {sorted(answer.get('content', {}))}")
            elif _schema_name(answer) != ("ValidationProblem" if status == "422" else "Problem"):
                wrong.append(f"{method} {path} {status}: schema {_schema_name(answer)}")
    assert not wrong, "\n".join(wrong)
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert "HTTPValidationError" not in str(spec)
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert {"errors"} <= set(problem["properties"])
    item = schemas["ProblemItem"]
    assert set(item["required"]) == {"loc", "msg"} and "choices" in item["properties"]
    assert "errors" in schemas["ValidationProblem"]["required"]


def test_the_problem_models_read_what_the_api_sends() -> None:
    """The schema is the one answers are built to: every kind of problem parses as it."""
    sent = [
        errors.Invalid(["body", "lat"], "too large").response(),
        errors.NotFound("no such punch").response(),
        errors.Busy().response(),
        errors.problem(
            409,
            "conflict",
            "Conflict",
            "pick one",
            [
                {
                    "loc": ["body", "org_id"],
                    "msg": "one of",
                    "choices": [{"id": "org_1", "name": "A"}],
                }
            ],
        ),
    ]
    for response in sent:
        assert response.media_type == PROBLEM_JSON
        body = bytes(response.body)
        model = errors.ValidationProblem if response.status_code == 422 else errors.Problem
        TypeAdapter(model).validate_json(body)


def test_every_operation_declares_the_statuses_it_can_answer(spec: dict[str, Any]) -> None:
    missing = []
    for method, path, op in _operations(spec):
        declared = set(op["responses"])
        expected: set[str] = set()
        if op.get("security"):
            expected |= {"401", "403"}
        if "{" in path:
            expected |= {"404", "422"}
        if op.get("parameters"):
            expected.add("422")
        if "requestBody" in op:
            expected |= {"400", "408", "413", "422"}
        if path.startswith("/api/v1/"):  # every API route runs in a database transaction
            expected.add("503")
        if not expected <= declared:
            missing.append(f"{method.upper()} {path}: {sorted(expected - declared)}")
    assert not missing, "\n".join(missing)


def test_route_specific_answers(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    approve = paths["/api/v1/corrections/{correction_id}/approve"]["post"]["responses"]
    assert set(approve) >= {"200", "401", "403", "404", "409", "413", "422", "503"}
    for path in ("/api/v1/punches", "/api/v1/punches/batch"):
        answers = paths[path]["post"]["responses"]
        assert "429" in answers and "Retry-After" in answers["429"]["headers"]
    assert "Retry-After" in answers["503"]["headers"]
    assert {"401", "409", "429"} <= set(paths["/api/v1/auth/token"]["post"]["responses"])


def test_the_punch_answer_is_typed(spec: dict[str, Any]) -> None:
    answers = spec["paths"]["/api/v1/punches"]["post"]["responses"]
    for status in ("201", "200"):
        schema = answers[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/PunchOut"}, status


def test_each_operation_names_its_scope_and_says_what_it_does(spec: dict[str, Any]) -> None:
    undescribed = []
    for method, path, op in _operations(spec):
        text = re.sub(r"\s*Needs the .* permission\.\s*$", "", op.get("description", ""))
        if not text.strip():
            undescribed.append(f"{method.upper()} {path}")
    assert not undescribed, "no description: " + ", ".join(undescribed)
    ops = {op["operationId"]: op for _, _, op in _operations(spec)}
    approve = ops["approve_correction"]
    assert approve["security"] == [{"HTTPBearer": ["corrections:review"]}]
    assert "`corrections:review`" in approve["description"]
    assert ops["create_punch"]["security"] == [{"HTTPBearer": ["punches:write"]}]
    assert ops["get_me"]["security"] == [{"HTTPBearer": []}]  # any caller
    assert "security" not in ops["issue_token"]


def test_schema_names_are_clean_and_policy_has_its_tag(spec: dict[str, Any]) -> None:
    names = set(spec["components"]["schemas"])
    assert not [n for n in names if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", n)], names
    assert {"PunchPage", "PasswordGrant", "PhotoUpload", "Problem"} <= names
    token = spec["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    schema = token["application/x-www-form-urlencoded"]["schema"]
    assert schema == {"$ref": "#/components/schemas/PasswordGrant"}
    for path, item in spec["paths"].items():
        if path.startswith("/api/v1/policy"):
            assert all(op["tags"] == ["policy"] for op in item.values()), path
    ids = [op["operationId"] for _, _, op in _operations(spec)]
    assert len(ids) == len(set(ids)) and "approve_correction" in ids

"""The REST contract's pure parts: the OpenAPI document built from the declared operations, and
how requests that do not fit the models are described."""

from __future__ import annotations

import re
from typing import Any

import pytest

from caxton.api.rest.app import build_app
from caxton.api.rest.common import RequestError
from caxton.api.rest.models.agents import DeployBody, LogsQuery
from caxton.api.rest.models.messages import AclMessageIn, SendQuery
from caxton.api.rest.models.protocols import ContractNetBody
from caxton.api.rest.openapi import document
from caxton.api.rest.operations import RAW, Operation, RestApi, reply
from caxton.api.rest.validation import check_body, decode_query
from caxton.security.permissions import REST, Permission, mutating


class _NoService:
    """Enough of a service to build the app (no handler runs here)."""


@pytest.fixture(scope="module")
def operations() -> list[Operation]:
    app = build_app(_NoService(), max_request_bytes=1024,  # type: ignore[arg-type]
                    max_module_bytes=4096, mtp=object(),  # type: ignore[arg-type]
                    security=object())  # type: ignore[arg-type]
    ops: list[Operation] = app.state.api.operations
    return ops


@pytest.fixture(scope="module")
def doc(operations: list[Operation]) -> dict[str, Any]:
    return document(operations, title="t", version="1", description="d")


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_every_operation_declares_its_path_parameters(doc: dict[str, Any]) -> None:
    for path, methods in doc["paths"].items():
        wanted = set(re.findall(r"\{(\w+)\}", path))
        for method, op in methods.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == wanted, (method, path)


def test_every_response_is_described_and_every_json_one_has_a_schema(
        doc: dict[str, Any]) -> None:
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            assert op["responses"], (method, path)
            for status, answer in op["responses"].items():
                assert 100 <= int(status) < 600
                assert isinstance(answer["description"], str) and answer["description"]
                for media, content in answer.get("content", {}).items():
                    assert "schema" in content, (method, path, status, media)
                    if int(status) >= 400 and path != "/ready":  # 503: still starting
                        assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}


def test_operations_with_input_document_the_errors_checking_gives(
        operations: list[Operation], doc: dict[str, Any]) -> None:
    for op in operations:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", op.path)
        answers = doc["paths"][path][op.method.lower()]["responses"]
        if op.query is not None or op.bodies:
            assert "400" in answers, op.operation_id
        if op.bodies:
            assert "413" in answers, op.operation_id
            # 415: a media type the operation does not take; or, on any operation that changes
            # state, a text/plain or form body (the guard's browser safety)
            guarded = REST[op.operation_id] is not Permission.open and mutating(op.method)
            assert ("415" in answers) == (guarded or not any(b.fallback for b in op.bodies)), \
                op.operation_id
        json_bodies = [b for b in op.bodies if b.model is not RAW]
        if json_bodies:
            content = doc["paths"][path][op.method.lower()]["requestBody"]["content"]
            assert "properties" in _resolve(doc, content["application/json"]["schema"])


def test_query_models_become_parameters_not_components(doc: dict[str, Any]) -> None:
    send = doc["paths"]["/api/v1/messages"]["post"]
    params = {p["name"]: p for p in send["parameters"]}
    assert params["wait"]["schema"] == {"type": "boolean", "default": False}
    assert params["timeout"]["schema"]["minimum"] == 0
    assert "SendQuery" not in doc["components"]["schemas"]
    logs = {p["name"]: p for p in doc["paths"]["/api/v1/agents/{name}/logs"]["get"]["parameters"]}
    assert logs["limit"]["schema"]["maximum"] == 1000 and not logs["limit"]["required"]


def test_message_schema_allows_x_parameters_only(doc: dict[str, Any]) -> None:
    message = doc["components"]["schemas"]["AclMessageIn"]
    assert message["additionalProperties"] is False
    assert list(message["patternProperties"]) == ["^[Xx]-[A-Za-z0-9_.-]{1,64}$"]
    assert message["required"] == ["performative", "receiver"]


def test_the_directory_path_parameter_takes_slashes_but_is_documented_plainly(
        doc: dict[str, Any], operations: list[Operation]) -> None:
    assert "/api/v1/directory/{agent}" in doc["paths"]
    assert any(op.path == "/api/v1/directory/{agent:path}" for op in operations)


def test_an_operation_cannot_be_declared_twice() -> None:
    api = RestApi()
    op = Operation("GET", "/x", "listAgents", "x", "t", (reply(200, "ok", None),))

    async def handler(_: Any) -> Any:
        return None

    api.add(op, handler)
    with pytest.raises(ValueError, match="declared twice"):
        api.add(op, handler)


def test_an_operation_without_a_permission_cannot_be_declared() -> None:
    async def handler(_: Any) -> Any:
        return None

    with pytest.raises(ValueError, match="permission table"):
        RestApi().add(Operation("GET", "/x", "noSuchOperation", "x", "t",
                                (reply(200, "ok", None),)), handler)


# -- how a request that does not fit is described ------------------------------------------------
@pytest.mark.parametrize(("model", "body", "field", "message"), [
    (AclMessageIn, [1, 2], "message", "must be an object"),
    (AclMessageIn, {"receiver": "echo"}, "performative", "is required"),
    (AclMessageIn, {"performative": "inform", "receiver": 7}, "receiver",
     "must be a string or a list"),
    (AclMessageIn, {"performative": "inform", "receiver": []}, "receiver",
     "must have at least 1 item"),
    (AclMessageIn, {"performative": "inform", "receiver": ["ok", "not ok"]}, "receiver[1]",
     "has the wrong form"),
    (AclMessageIn, {"performative": "inform", "receiver": "e", "trace_context": {"a": 1}},
     "trace_context.a", "unknown field"),
    (DeployBody, {"name": "x", "module_base64": "éé"}, "module_base64", "is not valid base64"),
    (DeployBody, {"name": "x", "module_base64": "", "limits": {"fuel": 5}}, "fuel",
     "must be an integer from 1000 to 1000000000000"),
    (DeployBody, {"name": "x", "module_base64": "", "services": [{"type": 7}]},
     "services[0].type", "must be a string"),
    (ContractNetBody, {"receiver": "a", "deadline_s": 0}, "deadline_s",
     "must be a number more than 0 and at most 300"),
])
def test_bodies_that_do_not_fit_name_the_field(model: Any, body: Any, field: str,
                                               message: str) -> None:
    with pytest.raises(RequestError) as refused:
        check_body(model, body, code="invalid_message", root="message", unnest=("limits",))
    assert refused.value.status == 400
    assert refused.value.field == field
    assert refused.value.message == f"field '{field}': {message}" or \
        refused.value.message.startswith(f"field '{field}': {message}")


@pytest.mark.parametrize(("raw", "wait"), [("yes", True), ("NO", False), ("1", True),
                                           ("false", False), ("on", True)])
def test_boolean_query_parameters_take_the_words_they_always_took(raw: str, wait: bool) -> None:
    assert decode_query(SendQuery, {"wait": raw}).wait is wait


@pytest.mark.parametrize(("model", "params", "says"), [
    (SendQuery, {"timeout": "nan"}, "query parameter 'timeout' must be at least 0"),
    (SendQuery, {"wait": "maybe"}, "query parameter 'wait' must be true or false"),
    (LogsQuery, {"limit": "0"}, "query parameter 'limit' must be an integer from 1 to 1000"),
    (LogsQuery, {"limit": "x"}, "query parameter 'limit' must be an integer"),
])
def test_query_parameters_that_do_not_fit(model: Any, params: dict[str, str], says: str) -> None:
    with pytest.raises(RequestError) as refused:
        decode_query(model, params)
    assert refused.value.code == "invalid_parameter" and refused.value.message == says


def test_unknown_query_parameters_are_ignored() -> None:
    assert decode_query(LogsQuery, {"limit": "5", "colour": "red"}).limit == 5

"""``/openapi.json``: the OpenAPI 3.1 document, generated from the declared operations.

Schemas come from the same msgspec models the routes decode requests with
(``msgspec.json.schema_components``); a query model's fields become the operation's query
parameters. The errors that checking itself can produce (400 for a query or body that does not
fit, 413 for a body over its limit, 415 for a media type the operation does not take) are added
to each operation that has such input, unless it documents them itself.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from caxton.api.rest.models.common import SCHEMA_EXTRAS, ErrorBody
from caxton.api.rest.operations import RAW, Operation, Reply
from caxton.security.permissions import REST, Permission, mutating

REF = "#/components/schemas/{name}"
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")
_CHECKS = {
    400: "The request does not fit the operation (the message names the field).",
    413: "The request body is over its size limit.",
    415: "The request body's Content-Type is not one the operation takes.",
}
_GUARDED = {  # what the guard in front of every protected operation may answer
    401: "No credential, or one that is malformed, forged, expired or revoked.",
    403: "The credential's role or agent scope does not allow this, or the Host or Origin "
         "is not allowed.",
    429: "Too many requests from this token or address (see Retry-After).",
}


def document(operations: list[Operation], *, title: str, version: str, description: str
             ) -> dict[str, Any]:
    models = _models(operations)
    schemas, components = msgspec.json.schema_components(models, ref_template=REF)
    by_model = dict(zip(models, schemas, strict=True))
    queries = {op.query for op in operations if op.query is not None}
    parameters = {query: _query_parameters(components.pop(query.__name__)) for query in queries}
    for name, extra in SCHEMA_EXTRAS.items():
        if name in components:
            components[name].update(extra)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        path = _CONVERTOR.sub(r"{\1}", op.path)  # Starlette's {agent:path} is {agent}
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, by_model, parameters)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "tags": [{"name": tag} for tag in dict.fromkeys(op.tag for op in operations)],
        "paths": paths,
        "components": {"schemas": dict(sorted(components.items())),
                       "securitySchemes": {"bearer": {
                           "type": "http", "scheme": "bearer",
                           "description": "An API key (caxton tokens create) or a JWT"}}},
        "security": [{"bearer": []}],
    }


def _models(operations: list[Operation]) -> list[Any]:
    found: dict[Any, None] = {ErrorBody: None}
    for op in operations:
        if op.query is not None:
            found[op.query] = None
        for body in op.bodies:
            if body.model is not RAW:
                found[body.model] = None
        for answer in op.responses:
            for model in (answer.model, answer.events):
                if model is not None:
                    found[model] = None
    return list(found)


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", ()))
    out = []
    for name, declared in schema.get("properties", {}).items():
        prop = _without_null(dict(declared))
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            parameter["description"] = prop.pop("description")
        parameter["schema"] = prop
        out.append(parameter)
    return out


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or has a value: ``T | None`` is documented as ``T``."""
    options = schema.get("anyOf")
    if options is not None:
        kept = [o for o in options if o != {"type": "null"}]
        if len(kept) == 1:
            del schema["anyOf"]
            schema = {**kept[0], **schema}
        if schema.get("default", 0) is None:
            del schema["default"]
    return schema


def _operation(op: Operation, by_model: dict[Any, Any],
               parameters: dict[Any, list[dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary,
                           "tags": [op.tag]}
    if op.description:
        out["description"] = op.description
    if REST[op.operation_id] is Permission.open:
        out["security"] = []
    else:
        out["x-permission"] = REST[op.operation_id].value
    params = [{"name": p.name, "in": "path", "required": True, "description": p.description,
               "schema": {"type": "string", "minLength": 1}} for p in op.path_params]
    if op.query is not None:
        params += parameters[op.query]
    if params:
        out["parameters"] = params
    if op.bodies:
        content = {}
        for body in op.bodies:
            schema = ({"type": "string", "format": "binary"} if body.model is RAW
                      else by_model[body.model])
            for media in body.media_types:
                content[media] = {"schema": schema}
        out["requestBody"] = {"required": True, "content": content}
        if op.bodies[0].description:
            out["requestBody"]["description"] = op.bodies[0].description
    out["responses"] = {str(r.status): _response(r, by_model)
                        for r in sorted(_with_checks(op), key=lambda r: r.status)}
    return out


def _with_checks(op: Operation) -> list[Reply]:
    answers = list(op.responses)
    statuses = {r.status for r in answers}
    implied = set()
    if op.query is not None or op.bodies:
        implied.add(400)
    if op.bodies:
        implied.add(413)
        if not any(body.fallback for body in op.bodies):
            implied.add(415)
    answers += [Reply(status, _CHECKS[status], ErrorBody) for status in sorted(implied - statuses)]
    if REST[op.operation_id] is not Permission.open:
        guarded = dict(_GUARDED)
        if mutating(op.method) and 415 not in statuses | implied:
            guarded[415] = ("A text/plain or form body (what a web page can send without a "
                            "preflight) for a call that changes state.")
        answers += [Reply(status, text, ErrorBody) for status, text in guarded.items()
                    if status not in statuses]
    return answers


def _response(answer: Reply, by_model: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": answer.description}
    if answer.model is not None:
        out["content"] = {answer.media_type: {"schema": by_model[answer.model]}}
    elif answer.media_type != "application/json":
        media: dict[str, Any] = {"schema": {"type": "string"}}
        if answer.events is not None:  # OpenAPI 3.1 cannot say what a stream's items are
            media["x-event-data"] = by_model[answer.events]
        out["content"] = {answer.media_type: media}
    return out

"""The OpenAPI document is the contract: schemathesis drives every operation of a real server
from ``/openapi.json`` and checks that no answer is a 5xx, that every status code and content
type is documented and that every JSON answer fits its documented schema.

Each operation gets a bounded number of schemathesis' positive and negative cases (negative
ones only where there is input that can be invalid: a query string or a JSON body). Random path
parameters rarely name anything, so operations with path parameters also get positive cases
whose path names real things: the ``echo`` agent (deployed, registered with the directory), a
conversation with it, and a dead letter of the ``trap`` agent.

The two event streams and the subscription stream never end by themselves: their own test reads
only the status and headers of each case and then closes the stream (a closed subscribe stream
cancels its subscription). Destructive operations stay in: after each case the fixture puts
``echo`` back (deployed, running, registered) if the case removed or stopped it.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from tests.conftest import FIXTURES, ServerProcess

from caxton.api.rest.app import build_app
from caxton.api.rest.operations import RAW

STREAMS = ("/api/v1/messages/stream", "/api/v1/events", "/api/v1/protocols/subscribe")
# negative_data_rejection: a request the document calls invalid must be refused (4xx), so the
# server is never laxer than its document.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]
# Cases per operation and mode: the whole file stays well under 90 s on 2 busy cores. Set
# CAXTON_CONTRACT_EXAMPLES for a deeper run (e.g. 200) by hand.
EXAMPLES = int(os.environ.get("CAXTON_CONTRACT_EXAMPLES", "12"))
TIMEOUT_S = 30  # one request; generous for a loaded machine
KNOWN = "known"  # the mode whose path parameters name real things
CONVERSATION = "contract-conversation"
DEAD = "contract-dead-letter"


class Contract:
    """The server under test and what it is set up with."""

    def __init__(self, server: ServerProcess, echo: bytes) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.headers.update(server.headers)
        self._echo = {"name": "echo", "module_base64": base64.b64encode(echo).decode(),
                      "services": [{"type": "echo"}]}

    def url(self, path: str) -> str:
        return self.server.url + path

    def restore(self) -> None:
        """Put ``echo`` back (deployed, running, registered) if a case changed that."""
        agent = self.session.get(self.url("/api/v1/agents/echo"), timeout=TIMEOUT_S)
        if agent.status_code == 200 and agent.json()["state"] == "running":
            registered = self.session.get(self.url("/api/v1/directory/echo"),
                                          timeout=TIMEOUT_S)
            if registered.status_code == 200:
                return
        deployed = self.session.post(self.url("/api/v1/agents"), json=self._echo,
                                     timeout=TIMEOUT_S)
        assert deployed.status_code == 201, deployed.text

    @property
    def known(self) -> dict[str, str]:
        return {"name": "echo", "agent": "echo", "conversation_id": CONVERSATION,
                "message_id": DEAD}


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory, examples: Path) -> Iterator[Contract]:
    proc = ServerProcess(tmp_path_factory.mktemp("contract") / "data",
                         env={"CAXTON_MAX_ATTEMPTS": "1"}).start()
    state = Contract(proc, (examples / "wat" / "echo.wat").read_bytes())
    state.restore()
    proc.deploy(FIXTURES / "trap.wat", "trap")
    talk = state.session.post(state.url("/api/v1/messages"), params={"wait": "true"}, json={
        "performative": "request", "receiver": "echo", "conversation_id": CONVERSATION,
        "content": {"n": 1}}, timeout=TIMEOUT_S)
    assert talk.status_code == 200, talk.text
    state.session.post(state.url("/api/v1/messages"), json={
        "performative": "request", "receiver": "trap", "message_id": DEAD, "content": 1},
        timeout=TIMEOUT_S)
    deadline = time.monotonic() + 60
    while state.session.get(state.url(f"/api/v1/dead-letters/{DEAD}")).status_code != 200:
        assert time.monotonic() < deadline, "the trap agent's message never became a dead letter"
        time.sleep(0.1)
    yield state
    state.session.close()
    code = proc.stop()
    assert code == 0, proc.stderr()[-3000:]


@pytest.fixture(scope="module")
def contract_schema(contract: Contract) -> Any:
    # Every call carries the admin key (the session's header); the document's security
    # requirements are dropped so that schemathesis does not count a request it believes has
    # no key, but which the session completes, as a bad request accepted. Authentication is
    # tested per operation, from the permission table, in test_security.py.
    document = contract.session.get(contract.url("/openapi.json"), timeout=TIMEOUT_S).json()
    document.pop("security", None)
    for operations in document["paths"].values():
        for operation in operations.values():
            operation.pop("security", None)
    config = SchemathesisConfig()
    config.projects.default.update(base_url=contract.server.url)
    return schemathesis.openapi.from_dict(document, config=config)


class _NoService:
    """Enough of a service to build the app and read its operations (handlers never run)."""


def declared_operations() -> list[tuple[str, str, set[str]]]:
    """(method, path, modes) of every operation the server declares, known without a server.

    Negative cases need input that can be invalid (any string is a valid path parameter, any
    bytes a raw body); the known-names mode needs path parameters."""
    app = build_app(_NoService(), max_request_bytes=1,  # type: ignore[arg-type]
                    max_module_bytes=1, mtp=object(),  # type: ignore[arg-type]
                    security=object())  # type: ignore[arg-type]
    out = []
    for op in app.state.api.operations:
        modes = {GenerationMode.POSITIVE.value}
        if op.query is not None or any(body.model is not RAW for body in op.bodies):
            modes.add(GenerationMode.NEGATIVE.value)
        if op.path_params:
            modes.add(KNOWN)
        out.append((op.method, re.sub(r"\{(\w+):\w+\}", r"{\1}", op.path), modes))
    return out


OPERATIONS = declared_operations()
_bounded = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],  # no shrinking against a server
                    suppress_health_check=list(HealthCheck))


def cases(*, streams: bool) -> list[Any]:
    return [pytest.param(method, path, mode, id=f"{method} {path} {mode}")
            for method, path, modes in OPERATIONS if (path in STREAMS) == streams
            for mode in ("positive", "negative", KNOWN) if mode in modes]


# Waits an operation does as long as it is asked to (up to max_wait_s, 300 s): a Contract Net
# whose participant never proposes (echo answers a cfp out of protocol) holds the request for
# its whole deadline_s. Valid values are cut to WAIT_S so that no case outlives TIMEOUT_S;
# invalid ones are left alone, so negative cases stay negative.
WAIT_S = 2.0
_WAITS = {"deadline_s": (0.0, 300.0), "result_timeout_s": (0.0, 300.0),
          "cancel_timeout_s": (0.0, 300.0)}


def bounded(case: Any) -> Any:
    body = case.body if isinstance(case.body, dict) else {}
    for key, (low, high) in _WAITS.items():
        value = body.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) \
                and low < value <= high:
            body[key] = min(value, WAIT_S)
    query = case.query if isinstance(case.query, dict) else {}
    timeout = query.get("timeout")
    if isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > WAIT_S:
        query["timeout"] = WAIT_S
    return case


def run_cases(contract: Contract, operation: Any, mode: str,
              check: Callable[[Any], None]) -> None:
    if mode == KNOWN:
        names = {p.name for p in operation.path_parameters}
        strategy = operation.as_strategy(path_parameters={
            name: value for name, value in contract.known.items() if name in names})
    else:
        strategy = operation.as_strategy(generation_mode=GenerationMode(mode))

    @_bounded
    @given(case=strategy)
    def each(case: Any) -> None:
        try:
            check(bounded(case))
        finally:
            contract.restore()

    each()


@pytest.mark.parametrize(("method", "path", "mode"), cases(streams=False))
def test_operations_keep_their_contract(contract: Contract, contract_schema: Any, method: str,
                                        path: str, mode: str) -> None:
    def check(case: Any) -> None:
        case.call_and_validate(session=contract.session, checks=CHECKS, timeout=TIMEOUT_S)

    run_cases(contract, contract_schema[path][method], mode, check)


@pytest.mark.parametrize(("method", "path", "mode"), cases(streams=True))
def test_streams_answer_with_a_documented_status(contract: Contract, contract_schema: Any,
                                                 method: str, path: str, mode: str) -> None:
    """Only the status and headers: a stream that starts never ends by itself."""
    operation = contract_schema[path][method]
    documented = {int(status) for status in operation.definition.raw["responses"]}

    def check(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url=contract.server.url)
        with contract.session.request(**kwargs, stream=True, timeout=TIMEOUT_S) as response:
            assert response.status_code < 500, response.text
            assert response.status_code in documented, (response.status_code, kwargs)
            expected = "text/event-stream" if response.status_code == 200 else \
                "application/json"
            assert response.headers["content-type"].startswith(expected), kwargs

    run_cases(contract, operation, mode, check)


def test_every_operation_is_driven() -> None:
    paths = {path for _, path, _ in OPERATIONS}
    assert len(OPERATIONS) >= 22 and set(STREAMS) <= paths
    assert {"/api/v1/agents/{name}", "/api/v1/directory/{agent}", "/acc"} <= paths

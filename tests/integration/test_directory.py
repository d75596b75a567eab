"""The directory facilitator, the AMS and capability addresses, against a real server process:
services declared at deploy, DF operations over REST, gRPC and the CLI, requests to df/ams in
JSON and FIPA-SL0, service:KEY addressing, restarts and errors."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ServerProcess

from caxton.client import CaxtonClient
from caxton.errors import AlreadyRegisteredError, InvalidMessageError, NotRegisteredError

SL_SEARCH = ("((action (agent-identifier :name df@caxton) (search (df-agent-description "
             ":services (set (service-description :type {type}))) "
             "(search-constraints :max-results 10))))")


@pytest.fixture(scope="module")
def df_server(tmp_path_factory: pytest.TempPathFactory, examples: Path
              ) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("directory") / "data").start()
    echo = examples / "c" / "echo.wasm"
    proc.deploy(echo, "tr-a", "--service", '{"type": "translate", "name": "en-fr", '
                '"properties": {"pairs": "en-fr"}}')
    services = proc.data_dir.parent / "services.json"
    services.write_text(json.dumps([{"type": "translate", "name": "en-de",
                                     "languages": ["json"]}, {"type": "summarise"}]))
    proc.deploy(echo, "tr-b", "--services", str(services), "--transport", "grpc")
    body = {"name": "tr-c", "module_base64": base64.b64encode(echo.read_bytes()).decode(),
            "services": [{"type": "translate", "protocols": ["fipa-request"]}]}
    assert proc.http.post("/api/v1/agents", json=body).status_code == 201
    raw = proc.http.post("/api/v1/agents", content=echo.read_bytes(), params={
        "name": "spell", "services": json.dumps([{"type": "spellcheck"}])},
        headers={"content-type": "application/wasm"})
    assert raw.status_code == 201, raw.text
    yield proc
    proc.stop()


def ask(server: ServerProcess, to: str, content: Any, **fields: Any) -> dict[str, Any]:
    response = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "10"},
                                json={"performative": "request", "receiver": [to],
                                      "content": content, **fields})
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()["reply"]
    return reply


def send(server: ServerProcess, to: str, content: Any) -> dict[str, Any]:
    return ask(server, to, content)


def test_services_declared_at_deploy_are_searchable_every_way(df_server: ServerProcess) -> None:
    table = df_server.cli("directory", "search", "--type", "translate").stdout
    rows = [line.split() for line in table.splitlines()[2:]]  # a row per service
    assert [(r[0], r[2]) for r in rows] == [("tr-a", "translate"), ("tr-b", "translate"),
                                            ("tr-b", "summarise"), ("tr-c", "translate")]
    found = json.loads(df_server.cli("directory", "search", "--type", "translate", "--property",
                                     "pairs=en-fr", "-o", "json").stdout)
    assert [d["agent"] for d in found] == ["tr-a"]
    via_grpc = json.loads(df_server.cli("directory", "search", "--language", "json",
                                        "--transport", "grpc", "-o", "json").stdout)
    assert [d["agent"] for d in via_grpc] == ["tr-b"]
    assert via_grpc[0]["services"][0] == {
        "name": "en-de", "type": "translate", "protocols": [], "ontologies": [],
        "languages": ["json"], "ownership": None, "properties": {}}
    rest = df_server.http.post("/api/v1/directory/search", json={
        "template": {"services": [{"type": "summarise"}]}}).json()
    assert [d["agent"] for d in rest["agents"]] == ["tr-b"]
    listed = df_server.http.get("/api/v1/directory").json()["agents"]
    assert [d["agent"] for d in listed] == ["spell", "tr-a", "tr-b", "tr-c"]
    with CaxtonClient(df_server.grpc_target, token=df_server.token) as client:
        assert [d["agent"] for d in client.df_search({"services": [{"type": "translate"}]},
                                                     max_results=2)] == ["tr-a", "tr-b"]
        assert client.df_search({"agent": "spell"})[0]["services"][0]["type"] == "spellcheck"


def test_df_answers_json_and_sl_requests(df_server: ServerProcess) -> None:
    reply = ask(df_server, "df", {"action": "search", "description": {
        "services": [{"type": "translate", "name": "en-de"}]}, "max_results": 5},
        ontology="fipa-agent-management", protocol="fipa-request")
    assert reply["performative"] == "inform" and reply["sender"] == "df"
    assert reply["protocol"] == "fipa-request"
    assert [d["agent"] for d in reply["content"]["result"]] == ["tr-b"]
    reply = ask(df_server, "df", SL_SEARCH.format(type="summarise"), language="fipa-sl0",
                ontology="fipa-agent-management")
    assert reply["performative"] == "inform" and reply["language"] == "fipa-sl0"
    assert reply["content"].startswith("((result (action (agent-identifier :name df@caxton)")
    assert reply["content"].endswith(
        "(sequence (df-agent-description :name (agent-identifier :name tr-b) :services (set "
        "(service-description :name en-de :type translate :languages (set json)) "
        "(service-description :type summarise))))))")


def test_ams_describes_the_platform_and_its_agents(df_server: ServerProcess) -> None:
    reply = ask(df_server, "ams", {"action": "get-description"})
    platform = reply["content"]["result"]
    assert reply["performative"] == "inform" and platform["name"] == "caxton"
    assert platform["addresses"] == [f"{df_server.url}/acc"]
    kinds = {s["type"]: s["addresses"] for s in platform["services"]}
    assert kinds["fipa-df"] == ["df@caxton"] and kinds["caxton.api.rest"] == [df_server.url]
    assert kinds["caxton.api.grpc"] == [df_server.grpc_target]
    reply = ask(df_server, "ams", "((action (agent-identifier :name ams@caxton) "
                "(search (ams-agent-description :name (agent-identifier :name spell)))))",
                language="fipa-sl0")
    assert reply["content"].endswith("(sequence (ams-agent-description :name "
                                     "(agent-identifier :name spell) :state active))))")


def test_capability_addressing(df_server: ServerProcess) -> None:
    best = {send(df_server, "service:translate", i)["sender"] for i in range(3)}
    assert best == {"tr-a"}  # all idle: the first by name
    assert send(df_server, "service:en-de", 1)["sender"] == "tr-b"  # by service name too
    rotation = [send(df_server, "service:translate/round-robin", i)["sender"]
                for i in range(6)]
    assert Counter(rotation) == {"tr-a": 2, "tr-b": 2, "tr-c": 2}
    out = df_server.cli("messages", "send", "--to", "service:translate/all", "--content",
                        '"all"', "--conversation-id", "all-of-them", "--wait").stdout
    assert out.startswith("inform tr-")
    conv = df_server.http.get("/api/v1/conversations/all-of-them").json()
    assert conv["messages"][0]["receiver"] == ["tr-a", "tr-b", "tr-c"]
    senders = set()
    for _ in range(50):
        conv = df_server.http.get("/api/v1/conversations/all-of-them").json()
        senders = {m["sender"] for m in conv["messages"] if m["performative"] == "inform"}
        if len(senders) == 3:
            break
    assert senders == {"tr-a", "tr-b", "tr-c"}
    nobody = df_server.cli("messages", "send", "--to", "service:juggling", "--content", "1",
                           "--wait", check=False)
    assert nobody.returncode == 1
    assert nobody.stdout.startswith('failure ams -> _client-')
    assert "no running agent offers service 'juggling'" in nobody.stdout


def test_errors(df_server: ServerProcess, examples: Path) -> None:
    bad = df_server.cli("agents", "deploy", str(examples / "c" / "echo.wasm"), "--name",
                        "nope", "--service", '{"type": 7}', check=False)
    assert bad.returncode == 1
    assert "field 'services[0].type': must be a string (HTTP 400)" in bad.stderr
    assert df_server.http.get("/api/v1/agents/nope").status_code == 404
    response = df_server.http.post("/api/v1/directory", json={"agent": "x", "services": [{}]})
    assert response.status_code == 400
    assert response.json()["field"] == "description.services[0].type"
    again = df_server.cli("directory", "register", "tr-a", "--service", '{"type": "x"}',
                          check=False)
    assert again.returncode == 1 and "already registered (HTTP 409)" in again.stderr
    reply = ask(df_server, "df", {"action": "suspend"})
    assert reply["performative"] == "refuse"
    assert reply["content"]["error"] == "unsupported-function"
    reply = ask(df_server, "df", {"action": "deregister", "description": {"agent": "tr-a"}},
                sender="spell")
    assert reply["performative"] == "refuse"
    assert reply["content"]["reason"] == "'spell' may only deregister itself, not 'tr-a'"
    reply = ask(df_server, "df", "((action (agent-identifier :name df) (register",
                language="fipa-sl0")
    assert reply["performative"] == "not-understood"
    with CaxtonClient(df_server.grpc_target, token=df_server.token) as client:
        with pytest.raises(AlreadyRegisteredError):
            client.df_register({"agent": "tr-a", "services": [{"type": "x"}]})
        with pytest.raises(NotRegisteredError):
            client.df_deregister("ghost")
        with pytest.raises(InvalidMessageError) as caught:
            client.df_register({"agent": "x", "lease": "soon"})
        assert caught.value.field == "description.lease"


def test_register_modify_deregister_from_the_cli(df_server: ServerProcess) -> None:
    out = df_server.cli("directory", "register", "remote@jade", "--service",
                        '{"type": "books", "properties": {"stock": 3}}', "--protocol",
                        "fipa-request", "--transport", "grpc").stdout
    assert out.strip() == "registered remote@jade (1 service(s))"
    found = json.loads(df_server.cli("directory", "search", "--property", "stock=3", "-o",
                                     "json").stdout)
    assert [d["agent"] for d in found] == ["remote@jade"]
    df_server.cli("directory", "modify", "remote@jade", "--service", '{"type": "music"}')
    assert df_server.http.get("/api/v1/directory/remote@jade").json()["services"][0][
        "type"] == "music"
    assert df_server.cli("directory", "deregister", "remote@jade").stdout.strip() == \
        "deregistered remote@jade"
    gone = df_server.cli("directory", "deregister", "remote@jade", "--transport", "grpc",
                         check=False)
    assert gone.returncode == 1 and "(gRPC NOT_FOUND)" in gone.stderr


def test_versions_replace_and_removal_drops_registrations(tmp_path: Path,
                                                          examples: Path) -> None:
    echo = examples / "c" / "echo.wasm"
    data = tmp_path / "data"
    first = ServerProcess(data).start()
    try:
        first.deploy(echo, "a", "--service", '{"type": "t1"}')
        first.deploy(echo, "b", "--service", '{"type": "t1"}')
        first.deploy(echo, "a", "--version", "2", "--service", '{"type": "t2"}')
        first.cli("directory", "register", "ext", "--service", '{"type": "t3"}')
        first.deploy(echo, "gone", "--service", '{"type": "t1"}')
        first.cli("agents", "remove", "gone")
    finally:
        assert first.stop() == 0
    second = ServerProcess(data).start()
    try:
        listed = second.http.get("/api/v1/directory").json()["agents"]
        assert {d["agent"]: d["services"][0]["type"] for d in listed} == {
            "a": "t2", "b": "t1", "ext": "t3"}
        assert send(second, "service:t2", 1)["sender"] == "a"
        assert send(second, "service:t1", 1)["sender"] == "b"
        second.deploy(echo, "b", "--version", "3")  # no services: no registration
        reply = send(second, "service:t1", 1)
        assert reply["performative"] == "failure" and reply["sender"] == "ams"
    finally:
        second.stop()

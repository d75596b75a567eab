"""Authentication, roles, browser safety, sender integrity, rate limits and the audit trail,
through a real server. The per-route cases are generated from the permission table, so a
route or RPC added without an entry there (or without these tests) fails here."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import httpx
import jwt
import pytest
from tests.conftest import ServerProcess

from caxton.api.rest.app import build_app
from caxton.security.permissions import (
    GRPC,
    REST,
    ROLE_PERMISSIONS,
    Permission,
    Role,
    mutating,
)

FORGED = "cxk_aaaaaaaaaaaa_" + "A" * 43


class _NoService:
    """Enough to build the app and read its operations."""


def _operations() -> list[tuple[str, str, str]]:
    app = build_app(_NoService(), max_request_bytes=1, max_module_bytes=1,  # type: ignore[arg-type]
                    mtp=object(), security=object())  # type: ignore[arg-type]
    return [(op.operation_id, op.method, op.path) for op in app.state.api.operations]


OPERATIONS = _operations()
PROTECTED = [(i, m, p) for i, m, p in OPERATIONS if REST[i] is not Permission.open]
PROTECTED.append(("metrics", "GET", "/metrics"))
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def concrete(path: str) -> str:
    return _PARAM.sub(lambda m: {"name": "echo", "agent": "echo"}.get(m.group(1), "x1"), path)


SECRET = b"k" * 48
ISSUER, AUDIENCE = "https://idp.example.org", "caxton"


def signed(**extra: Any) -> str:
    now = int(time.time())
    return jwt.encode({"sub": "mallory", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600,
                       "caxton_role": "admin", **extra}, SECRET, algorithm="HS256")


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory, examples: Path
            ) -> Iterator[ServerProcess]:
    base = tmp_path_factory.mktemp("secured")
    (base / "secret").write_bytes(SECRET)
    # Hundreds of deliberate failures from one address: the brute-force limit is tested alone.
    proc = ServerProcess(base / "data", env={
        "CAXTON_AUTH_FAILURE_BURST": "100000", "CAXTON_JWT_HS256_SECRET_FILE": str(
            base / "secret"), "CAXTON_JWT_ISSUER": ISSUER, "CAXTON_JWT_AUDIENCE": AUDIENCE,
        "CAXTON_JWT_LEEWAY_S": "0"}).start()
    proc.deploy(examples / "wat" / "echo.wat", "echo")
    expiring, revoked = new_key(proc, "admin", expires="1s"), new_key(proc, "admin")
    proc.http.delete(f"/api/v1/tokens/{revoked.split('_')[1]}").raise_for_status()
    now = int(time.time())
    BAD_CREDENTIALS.update({
        "revoked key": {"authorization": f"Bearer {revoked}"},
        "expired key": {"authorization": f"Bearer {expiring}"},
        "expired jwt": {"authorization": f"Bearer {signed(exp=now - 60)}"},
        "not-yet-valid jwt": {"authorization": f"Bearer {signed(nbf=now + 3600)}"},
        "wrong-audience jwt": {"authorization": f"Bearer {signed(aud='another-app')}"},
        "forged jwt": {"authorization": "Bearer " + jwt.encode(
            {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600,
             "caxton_role": "admin"}, b"z" * 48, algorithm="HS256")},
        "unsigned jwt": {"authorization": "Bearer " + jwt.encode(
            {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600,
             "caxton_role": "admin"}, None, algorithm="none")},  # type: ignore[arg-type]
    })
    time.sleep(2.1)  # the expiring key is past its lifetime now
    assert call(proc, "GET", "/api/v1/agents", {"authorization": f"Bearer {signed()}"}
                ).status_code == 200  # a good JWT passes: the bad ones fail for their fault
    yield proc
    proc.stop()


def new_key(server: ServerProcess, role: str, **extra: Any) -> str:
    created = server.http.post("/api/v1/tokens", json={"role": role, **extra})
    assert created.status_code == 201, created.text
    return str(created.json()["token"])


def audited(server: ServerProcess, enough: Any, **params: Any) -> list[dict[str, Any]]:
    """The audit rows matching ``params`` once ``enough(rows)`` (rows reach the table with the
    next group commit), or after 10 s."""
    deadline = time.monotonic() + 10
    while True:
        rows: list[dict[str, Any]] = server.http.get(
            "/api/v1/audit", params={"limit": 5000, **params}).json()["events"]
        if enough(rows) or time.monotonic() > deadline:
            return rows


def call(server: ServerProcess, method: str, path: str, headers: dict[str, str]
         ) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        if method == "GET" and path.endswith(("/stream", "/events")):
            with client.stream(method, path, headers=headers) as response:
                response.read() if response.status_code != 200 else None
                return response
        return client.request(method, path, headers={"content-type": "application/json",
                                                     **headers}, content=b"{}"
                              if mutating(method) else None)


# -- 401: every protected route, every kind of bad credential --------------------------------- ---
BAD_CREDENTIALS = {
    "missing": {},
    "malformed": {"authorization": "Bearer not-a-token"},
    "wrong scheme": {"authorization": "Basic YWRtaW46YWRtaW4="},
    "empty bearer": {"authorization": "Bearer"},
    "forged": {"authorization": f"Bearer {FORGED}"},
}


@pytest.mark.parametrize(("operation", "method", "path"), PROTECTED,
                         ids=[op for op, _, _ in PROTECTED])
def test_every_protected_route_refuses_bad_credentials(secured: ServerProcess, operation: str,
                                                       method: str, path: str) -> None:
    for kind, headers in BAD_CREDENTIALS.items():
        response = call(secured, method, concrete(path), headers)
        assert response.status_code == 401, (kind, response.text)
        assert response.json()["code"] == "unauthenticated"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_expired_and_revoked_keys_are_refused_at_once(secured: ServerProcess) -> None:
    short = new_key(secured, "viewer", expires="1s")
    assert call(secured, "GET", "/api/v1/agents", {"authorization": f"Bearer {short}"}
                ).status_code == 200
    time.sleep(2.1)  # a lifetime is kept in whole seconds, rounded up
    expired = call(secured, "GET", "/api/v1/agents", {"authorization": f"Bearer {short}"})
    assert expired.status_code == 401 and "expired" in expired.json()["message"]

    key = new_key(secured, "developer")
    auth = {"authorization": f"Bearer {key}"}
    assert call(secured, "GET", "/api/v1/agents", auth).status_code == 200
    key_id = key.split("_")[1]
    assert secured.http.delete(f"/api/v1/tokens/{key_id}").json()["revoked_at"]
    revoked = call(secured, "GET", "/api/v1/agents", auth)  # the very next request
    assert revoked.status_code == 401 and "revoked" in revoked.json()["message"]


# -- 403: every route a role lacks ---------------------------------------------------------------
@pytest.mark.parametrize("role", ["viewer", "developer", "operator"])
def test_every_route_a_role_lacks_is_forbidden(secured: ServerProcess, role: str) -> None:
    auth = {"authorization": f"Bearer {new_key(secured, role)}"}
    granted = ROLE_PERMISSIONS[Role(role)]
    forbidden = [(i, m, p) for i, m, p in PROTECTED if REST[i] not in granted]
    assert forbidden, role
    for operation, method, path in forbidden:
        response = call(secured, method, concrete(path), auth)
        assert response.status_code == 403, (operation, response.text)
        assert response.json()["code"] == "permission_denied"
    for operation, method, path in PROTECTED:  # and what it may do is not refused as such
        if REST[operation] in granted and not mutating(method):
            assert call(secured, method, concrete(path), auth).status_code not in (401, 403), \
                operation


def test_a_grant_scoped_to_agent_patterns(secured: ServerProcess, examples: Path) -> None:
    key = new_key(secured, "developer", agents=["team-a-*"])
    env = {"CAXTON_TOKEN": key}
    echo = str(examples / "wat" / "echo.wat")
    secured.cli("agents", "deploy", echo, "--name", "team-a-echo", env=env)
    other = secured.cli("agents", "deploy", echo, "--name", "team-b-echo", env=env, check=False)
    assert other.returncode == 1 and "team-b-echo" in other.stderr
    stop = secured.cli("agents", "stop", "echo", env=env, check=False)
    assert stop.returncode == 1 and "may not use agent 'echo'" in stop.stderr
    secured.cli("agents", "remove", "team-a-echo", env=env)
    assert secured.http.get("/api/v1/agents/team-b-echo").status_code == 404
    # Directory registrations name their agent in the body: the scope holds there too.
    auth = {"authorization": f"Bearer {key}"}
    for agent, status in (("echo", 403), ("team-a-planner", 201)):
        registered = httpx.post(secured.url + "/api/v1/directory", headers=auth, json={
            "agent": agent, "services": [{"type": "planning"}]}, timeout=30)
        assert registered.status_code == status, registered.text
    assert httpx.delete(secured.url + "/api/v1/directory/echo", headers=auth,
                        timeout=30).status_code == 403


# -- senders --------------------------------------------------------------------------------------
def test_senders_are_the_callers_own(secured: ServerProcess) -> None:
    scoped = {"authorization": f"Bearer {new_key(secured, 'developer', agents=['team-*'])}"}
    message = {"performative": "inform", "receiver": ["echo"], "content": 1}
    anonymous = call_json(secured, scoped, message)
    assert anonymous.status_code == 202, anonymous.text
    spoofed = call_json(secured, scoped, {**message, "sender": "echo"})
    assert spoofed.status_code == 403 and "may not send as 'echo'" in spoofed.json()["message"]
    assert call_json(secured, scoped, {**message, "sender": "team-x"}).status_code == 202
    for platform_agent in ("df", "ams", "df@caxton", "AMS"):  # not even an admin
        refused = call_json(secured, secured.headers, {**message, "sender": platform_agent})
        assert refused.status_code == 403, platform_agent


def call_json(server: ServerProcess, headers: dict[str, str], body: Any) -> httpx.Response:
    return httpx.post(server.url + "/api/v1/messages", json=body, headers=headers, timeout=30)


# -- browsers -------------------------------------------------------------------------------------
def test_a_web_page_cannot_drive_the_api(secured: ServerProcess) -> None:
    deploy = {"name": "evil", "module_base64": "AGFzbQEAAAA="}
    # A page's "simple" POST: text/plain from a foreign origin (no preflight in a browser).
    page = httpx.post(secured.url + "/api/v1/agents", content=str(deploy), headers={
        **secured.headers, "content-type": "text/plain", "origin": "http://evil.example"})
    assert page.status_code == 403 and page.json()["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in page.headers
    plain = httpx.post(secured.url + "/api/v1/messages", content=b'{"performative":"inform"}',
                       headers={**secured.headers, "content-type": "text/plain"})
    assert plain.status_code == 415
    form = httpx.post(secured.url + "/api/v1/messages", data={"performative": "inform"},
                      headers=secured.headers)
    assert form.status_code == 415
    # DNS rebinding: evil.example resolves to 127.0.0.1; the browser sends its Host.
    rebound = httpx.get(secured.url + "/api/v1/agents",
                        headers={**secured.headers, "host": "evil.example:8080"})
    assert rebound.status_code == 403 and rebound.json()["code"] == "host_not_allowed"
    assert secured.http.get("/api/v1/agents/evil").status_code == 404
    # The server's own origin (a UI it serves) is fine, and probes need nothing.
    host = secured.url.removeprefix("http://")
    same = httpx.get(secured.url + "/api/v1/agents",
                     headers={**secured.headers, "origin": f"http://{host}"})
    assert same.status_code == 200
    assert httpx.get(secured.url + "/health", headers={"host": "evil.example"}).status_code == 200


def test_allowed_origins_get_cors(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={
        "CAXTON_ALLOWED_ORIGINS": "https://ui.example.org",
        "CAXTON_ALLOWED_HOSTS": "caxton.example.org"}).start()
    try:
        origin = {"origin": "https://ui.example.org"}
        preflight = httpx.options(server.url + "/api/v1/agents", headers={
            **origin, "access-control-request-method": "POST"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "https://ui.example.org"
        assert "authorization" in preflight.headers["access-control-allow-headers"]
        answer = httpx.get(server.url + "/api/v1/agents", headers={**server.headers, **origin,
                                                                   "host": "caxton.example.org"})
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == "https://ui.example.org"
        other = httpx.get(server.url + "/api/v1/agents",
                          headers={**server.headers, "origin": "https://other.example.org"})
        assert other.status_code == 403
    finally:
        server.stop()


# -- rate limits ----------------------------------------------------------------------------------
def test_brute_force_and_busy_tokens_hit_the_rate_limits(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={
        "CAXTON_AUTH_FAILURE_RATE_LIMIT": "0.5", "CAXTON_AUTH_FAILURE_BURST": "5",
        "CAXTON_TOKEN_RATE_LIMIT": "1", "CAXTON_TOKEN_RATE_BURST": "10"}).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            guesses = [client.get("/api/v1/agents", headers={
                "authorization": f"Bearer cxk_{i:012d}_{'A' * 43}"}) for i in range(20)]
        statuses = [g.status_code for g in guesses]
        assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}, statuses
        assert int(guesses[-1].headers["retry-after"]) >= 1
        # The admin's key still works from that address: only failures are throttled.
        assert server.http.get("/api/v1/agents").status_code == 200
        busy = {"authorization": f"Bearer {new_key(server, 'viewer')}"}
        with httpx.Client(base_url=server.url, timeout=30, headers=busy) as client:
            answers = [client.get("/api/v1/agents").status_code for _ in range(15)]
        assert answers[:10] == [200] * 10 and 429 in answers[10:], answers
        def failures(rows: list[dict[str, Any]]) -> int:
            return sum(e["outcome"] == "unauthenticated" for e in rows)

        assert failures(audited(server, lambda rows: failures(rows) >= 5)) == 5  # not 20
    finally:
        server.stop()


def test_a_forwarded_for_header_does_not_change_the_address_that_is_limited(tmp_path: Path
                                                                            ) -> None:
    """Caxton is not behind a proxy unless told so: a client on 127.0.0.1 that names a new
    X-Forwarded-For address on each guess is still one address (uvicorn trusted the header
    from 127.0.0.1, so every guess looked like a new client and was never throttled)."""
    server = ServerProcess(tmp_path / "data", env={
        "CAXTON_AUTH_FAILURE_RATE_LIMIT": "0.5", "CAXTON_AUTH_FAILURE_BURST": "5"}).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            statuses = [client.get("/api/v1/agents", headers={
                "authorization": f"Bearer cxk_{i:012d}_{'A' * 43}",
                "x-forwarded-for": f"10.0.{i}.1", "x-real-ip": f"10.0.{i}.1"}).status_code
                for i in range(12)]
        assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}, statuses
    finally:
        server.stop()


def test_per_address_limit(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={
        "CAXTON_ADDRESS_RATE_LIMIT": "1", "CAXTON_ADDRESS_RATE_BURST": "8"}).start()
    try:
        with server.client() as client:
            answers = [client.get("/api/v1/agents").status_code for _ in range(12)]
            assert answers[:8] == [200] * 8 and answers[8:] == [429] * 4
            assert client.get("/health").status_code == 200  # probes are never limited
        metadata = [("authorization", f"Bearer {server.token}")]
        codes = [_grpc_call(server, "/caxton.v1.AgentService/ListAgents", metadata)
                 for _ in range(12)]
        assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes, codes
        assert _grpc_call(server, "/grpc.health.v1.Health/Check", []) is grpc.StatusCode.OK
    finally:
        server.stop()


def test_brute_force_over_grpc(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={
        "CAXTON_AUTH_FAILURE_RATE_LIMIT": "0.5", "CAXTON_AUTH_FAILURE_BURST": "5"}).start()
    try:
        codes = [_grpc_call(server, "/caxton.v1.AgentService/ListAgents",
                            [("authorization", f"Bearer cxk_{i:012d}_{'A' * 43}")])
                 for i in range(12)]
        assert codes[:5] == [grpc.StatusCode.UNAUTHENTICATED] * 5
        assert set(codes[5:]) == {grpc.StatusCode.RESOURCE_EXHAUSTED}, codes
    finally:
        server.stop()


# -- the audit trail ------------------------------------------------------------------------------
def test_every_mutating_route_is_audited(secured: ServerProcess) -> None:
    viewer = {"authorization": f"Bearer {new_key(secured, 'viewer')}"}
    # Rows of earlier tests may still be on their way to the table: only what happens from now.
    since = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    mutations = [(i, m, p) for i, m, p in PROTECTED if mutating(m)
                 and REST[i] not in ROLE_PERMISSIONS[Role.viewer]]
    for _operation, method, path in mutations:
        call(secured, method, concrete(path), viewer)  # refused (403), and audited as such
    wanted = {(operation, "denied") for operation, _, _ in mutations}
    deadline = time.monotonic() + 10  # rows reach the table with the next group commit
    while True:
        events = secured.http.get("/api/v1/audit", params={"since": since, "limit": 1000}
                                  ).json()["events"]
        seen = {(e["action"], e["outcome"]) for e in events}
        if wanted <= seen or time.monotonic() > deadline:
            break
    assert wanted <= seen, wanted - seen
    actor = "key:" + viewer["authorization"].split("_")[1]
    assert {e["actor"] for e in events if e["outcome"] == "denied"} == {actor}
    assert all(e["source"].startswith("rest 127.0.0.1:") for e in events)
    # A call that goes through is audited with its outcome and target.
    secured.http.post("/api/v1/agents/echo/stop")
    secured.http.post("/api/v1/agents/echo/start")
    audited(secured, lambda rows: any(r["outcome"] == "ok" for r in rows), action="stopAgent")
    listed = secured.cli("audit", "list", "--action", "stopAgent", "-o", "json").stdout
    assert '"target": "echo"' in listed and '"outcome": "ok"' in listed


def test_the_audit_trail_is_append_only_through_the_api(secured: ServerProcess) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert secured.http.request(method, "/api/v1/audit").status_code == 405


# -- gRPC -----------------------------------------------------------------------------------------
def _grpc_call(server: ServerProcess, method: str, metadata: list[tuple[str, str]]
               ) -> grpc.StatusCode:
    with grpc.insecure_channel(server.grpc_target) as channel:
        try:
            if method.endswith(("Watch", "StreamMessages", "StreamEvents", "Subscribe",
                                "WatchDeployment")):
                stream = channel.unary_stream(method)(b"", metadata=metadata, timeout=10)
                next(iter(stream), None)
                stream.cancel()
            elif method.endswith("ServerReflectionInfo"):
                stream = channel.stream_stream(method)(iter([b""]), metadata=metadata,
                                                       timeout=10)
                next(iter(stream), None)
                stream.cancel()
            else:
                channel.unary_unary(method)(b"", metadata=metadata, timeout=10)
        except grpc.RpcError as exc:
            return exc.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


GRPC_PROTECTED = sorted(m for m, p in GRPC.items() if p is not Permission.open)


def test_every_grpc_method_refuses_bad_credentials(secured: ServerProcess) -> None:
    for method in GRPC_PROTECTED:
        for kind, headers in BAD_CREDENTIALS.items():
            metadata = list(headers.items())
            assert _grpc_call(secured, method, metadata) is grpc.StatusCode.UNAUTHENTICATED, \
                (method, kind)


def test_every_grpc_method_a_viewer_lacks_is_denied(secured: ServerProcess) -> None:
    metadata = [("authorization", f"Bearer {new_key(secured, 'viewer')}")]
    granted = ROLE_PERMISSIONS[Role.viewer]
    for method in GRPC_PROTECTED:
        code = _grpc_call(secured, method, metadata)
        if GRPC[method] in granted:
            assert code not in (grpc.StatusCode.UNAUTHENTICATED,
                                grpc.StatusCode.PERMISSION_DENIED), method
        else:
            assert code is grpc.StatusCode.PERMISSION_DENIED, method
    assert _grpc_call(secured, "/grpc.health.v1.Health/Check", []) is grpc.StatusCode.OK
    actor = "key:" + metadata[0][1].split("_")[1]
    expected = {m for m in GRPC_PROTECTED if GRPC[m] not in granted}
    denied: set[str] = set()
    deadline = time.monotonic() + 10  # rows reach the table with the next group commit
    while denied != expected and time.monotonic() < deadline:
        events = secured.http.get("/api/v1/audit", params={"actor": actor, "limit": 5000}
                                  ).json()["events"]
        denied = {e["action"] for e in events if e["outcome"] == "denied"}
    assert denied == expected


def test_grpc_scope_senders_and_audit(secured: ServerProcess) -> None:
    from caxton.client import CaxtonClient  # noqa: PLC0415
    from caxton.errors import AuthenticationError, PermissionDeniedError  # noqa: PLC0415

    key = new_key(secured, "developer", agents=["team-*"])
    with CaxtonClient(secured.grpc_target, token=key) as client:
        with pytest.raises(PermissionDeniedError, match="may not use agent 'echo'"):
            client.stop_agent("echo")
        with pytest.raises(PermissionDeniedError, match="may not send as 'echo'"):
            client.send({"performative": "inform", "receiver": ["echo"], "sender": "echo"})
        assert client.send({"performative": "inform", "receiver": ["echo"], "content": 1})
    with CaxtonClient(secured.grpc_target, token=FORGED) as client, \
            pytest.raises(AuthenticationError):
        client.agents()
    events = audited(secured, bool, action="/caxton.v1.AgentService/StopAgent")
    assert events[-1]["outcome"] == "denied" and events[-1]["target"] == "echo"


# -- defaults -------------------------------------------------------------------------------------
def test_metrics_need_a_key_unless_configured_open(secured: ServerProcess,
                                                   tmp_path: Path) -> None:
    assert httpx.get(secured.url + "/metrics").status_code == 401
    assert secured.http.get("/metrics").status_code == 200
    server = ServerProcess(tmp_path / "data", env={"CAXTON_METRICS_OPEN": "true"}).start()
    try:
        assert httpx.get(server.url + "/metrics").status_code == 200
        assert httpx.get(server.url + "/api/v1/agents").status_code == 401
    finally:
        server.stop()


def test_auth_off_serves_everyone_as_admin(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", "--auth", "off").start()
    try:
        assert not (tmp_path / "data" / "admin.token").exists()
        assert httpx.get(server.url + "/api/v1/agents").status_code == 200
        # Browser safety still holds.
        assert httpx.get(server.url + "/api/v1/agents",
                         headers={"host": "evil.example"}).status_code == 403
        assert "authentication is off" in server.stderr()
    finally:
        server.stop()


def test_first_start_writes_the_admin_key_and_says_where(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        token_file = tmp_path / "data" / "admin.token"
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        assert f'"file": "{token_file}"' in server.stderr()
        assert "admin API key (the caxton CLI on this machine reads it)" in server.stderr()
        listed = server.cli("tokens", "list", "-o", "json").stdout
        assert '"name": "admin.token"' in listed and '"role": "admin"' in listed
    finally:
        server.stop()


def test_absolute_form_request_lines_do_not_bypass_the_guard(secured: ServerProcess) -> None:
    host, port = secured.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET http://{host}:{port}/api/v1/agents HTTP/1.1\r\nHost: {host}\r\n"
                     f"Connection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]


def test_a_refused_request_leaves_the_connection_usable(secured: ServerProcess) -> None:
    """The guard reads a small body it refuses, so the kept-alive connection goes on."""
    with httpx.Client(base_url=secured.url, timeout=30) as client:
        for _ in range(3):
            refused = client.post("/api/v1/messages", json={"performative": "inform",
                                                            "receiver": ["echo"]})
            assert refused.status_code == 401
            ok = client.post("/api/v1/messages", headers=secured.headers,
                             json={"performative": "inform", "receiver": ["echo"]})
            assert ok.status_code == 202

"""TLS and mTLS against real servers, with certificates from ``caxton security``: REST (and the
MTP's /acc), gRPC and the metrics port; client certificates per listener; certificate rotation
on SIGHUP; the CLI and the Python client; the outbound MTP to https:// platforms."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import uvicorn
from cryptography import x509
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tests.conftest import CAXTON, ServerProcess
from tests.integration.mtp_peer import Peer

from caxton.api.rest.http_protocol import guarded_protocol
from caxton.client import AsyncCaxtonClient, CaxtonClient, ServerUnreachableError
from caxton.security.client_certs import SCOPE_KEY, client_certificate
from caxton.security.client_tls import ClientTls
from caxton.security.principal import ClientCertificate
from caxton.security.tls import ServerTls, TlsFiles
from caxton.server import bind

ECHO = Path(__file__).resolve().parents[2] / "examples" / "agents" / "wat" / "echo.wat"


def caxton(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([CAXTON, *args], capture_output=True, text=True, timeout=60,
                            env={**os.environ, **(env or {})})
    assert result.returncode == 0, f"caxton {' '.join(args)}: {result.stderr}"
    return result


@dataclass
class Pki:
    """What `caxton security` wrote: a CA, a node certificate, a client certificate (alice,
    developer), and a client certificate of another CA (mallory)."""

    dir: Path
    other: Path

    def client(self, who: str = "alice", ca: Path | None = None) -> ClientTls:
        directory = self.dir if who != "mallory" else self.other
        return ClientTls(ca or self.dir / "ca.crt", directory / f"client-{who}.crt",
                         directory / f"client-{who}.key")

    def cli_env(self, who: str | None = None) -> dict[str, str]:
        env = {"CAXTON_TLS_CA": str(self.dir / "ca.crt")}
        if who is not None:
            env |= {"CAXTON_TLS_CERT": str(self.dir / f"client-{who}.crt"),
                    "CAXTON_TLS_KEY": str(self.dir / f"client-{who}.key")}
        return env


def make_pki(data_dir: Path, other: Path, node: str = "server") -> Pki:
    """With the CLI: the CA in the data dir's default place (``<data-dir>/tls``)."""
    where = ["--data-dir", str(data_dir)]
    caxton("security", "init-ca", *where)
    caxton("security", "issue-cert", "--node", node, *where)
    caxton("security", "issue-cert", "--client", "alice", "--role", "developer", *where)
    caxton("security", "init-ca", "--dir", str(other))
    caxton("security", "issue-cert", "--client", "mallory", "--role", "admin", "--dir", str(other))
    return Pki(data_dir / "tls", other)


def tls_server(data_dir: Path, pki: Pki, *args: str, node: str = "server",
               env: dict[str, str] | None = None, who: str | None = None) -> ServerProcess:
    server = ServerProcess(data_dir, "--tls-cert", str(pki.dir / f"node-{node}.crt"),
                           "--tls-key", str(pki.dir / f"node-{node}.key"), *args, env=env)
    client = pki.client(who) if who else ClientTls(pki.dir / "ca.crt")
    server.verify = client.ssl_context()
    server.cli_env = pki.cli_env(who)
    return server.start()


def serial_of(path: Path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


def address(url_or_target: str) -> tuple[str, int]:
    host, port = url_or_target.rsplit("://", maxsplit=1)[-1].rsplit(":", 1)
    return host.strip("[]"), int(port)


def served_serial(where: tuple[str, int], ca: Path, alpn: str | None = None) -> int:
    """The serial number of the certificate a new TLS connection to ``where`` is shown."""
    context = ClientTls(ca).ssl_context()
    if alpn:
        context.set_alpn_protocols([alpn])
    with (socket.create_connection(where, timeout=10) as raw,
          context.wrap_socket(raw, server_hostname=where[0]) as conn):
        der = conn.getpeercert(binary_form=True)
        assert der is not None
        return x509.load_der_x509_certificate(der).serial_number


def metrics_port(server: ServerProcess) -> int:
    for line in server.stderr().splitlines():
        if '"caxton metrics listening"' in line:
            return int(json.loads(line)["port"])
    raise AssertionError(f"no metrics port in the log:\n{server.stderr()}")


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def get_health(conn: ssl.SSLSocket) -> bytes:
    """GET /health on an open connection (kept alive): the answer's status line."""
    conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    while len(body) < length:
        body += conn.recv(4096)
    return head.split(b"\r\n")[0]


def closed_within(where: tuple[str, int], timeout: float) -> float:
    """Connect, send nothing: how long until the server closes the connection."""
    start = time.monotonic()
    with socket.create_connection(where, timeout=timeout) as sock:
        try:
            while sock.recv(1024):
                pass
        except ConnectionResetError:
            pass
    return time.monotonic() - start


def test_caxton_security_keeps_keys_private_and_an_existing_ca(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "data", tmp_path / "other")
    assert stat.S_IMODE(pki.dir.stat().st_mode) == 0o700
    for name in ("ca", "node-server", "client-alice"):
        assert stat.S_IMODE((pki.dir / f"{name}.key").stat().st_mode) == 0o600
        assert stat.S_IMODE((pki.dir / f"{name}.crt").stat().st_mode) == 0o644
    ca = (pki.dir / "ca.crt").read_bytes()
    again = subprocess.run([CAXTON, "security", "init-ca", "--dir", str(pki.dir)],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "use --force" in again.stderr
    assert (pki.dir / "ca.crt").read_bytes() == ca
    caxton("security", "init-ca", "--dir", str(pki.dir), "--force")
    assert (pki.dir / "ca.crt").read_bytes() != ca
    assert sorted(p.name for p in pki.dir.iterdir()) == [  # no temporary files left behind
        "ca.crt", "ca.key", "client-alice.crt", "client-alice.key", "node-server.crt",
        "node-server.key"]
    missing = subprocess.run([CAXTON, "security", "issue-cert", "--node", "n", "--dir",
                              str(tmp_path / "nothing")], capture_output=True, text=True,
                             timeout=60)
    assert missing.returncode == 1 and "caxton security init-ca" in missing.stderr
    both = subprocess.run([CAXTON, "security", "issue-cert", "--node", "n", "--client", "c",
                           "--dir", str(pki.dir)], capture_output=True, text=True, timeout=60)
    assert both.returncode == 2 and "one of --node NAME or --client NAME" in both.stderr


# -- one TLS server: REST, gRPC, metrics, the CLI and the Python client --------------------------
@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Pki]]:
    root = tmp_path_factory.mktemp("tls")
    pki = make_pki(root / "data", root / "other")
    server = tls_server(root / "data", pki, "--metrics-port", "0",
                        # its outbound MTP may reach the test's own https peers
                        env={"CAXTON_HTTP_HEADER_TIMEOUT_S": "2",
                             "CAXTON_MTP_ALLOWED_HOSTS": "127.0.0.1"})
    server.deploy(ECHO, "echo")
    yield server, pki
    server.stop()


def test_rest_and_the_cli_work_over_tls(secure: tuple[ServerProcess, Pki]) -> None:
    server, _ = secure
    assert server.url.startswith("https://127.0.0.1:")
    assert server.http.get("/health").json()["status"] == "ok"
    for transport in ("rest", "grpc"):
        sent = server.cli("messages", "send", "--to", "echo", "--content", '{"over": "tls"}',
                          "--wait", "--transport", transport)
        assert "inform echo" in sent.stdout and '{"over":"tls"}' in sent.stdout
    info = json.loads((server.data_dir / "server.json").read_text())
    assert (info["url"], info["tls"]) == (server.url, True)
    # The MTP's address for replies is https too.
    ready = [json.loads(line) for line in server.stderr().splitlines()
             if '"FIPA HTTP MTP ready"' in line]
    assert ready[0]["acc_url"] == f"{server.url}/acc"


def test_the_python_clients_work_over_tls(secure: tuple[ServerProcess, Pki]) -> None:
    server, pki = secure
    tls = ClientTls(pki.dir / "ca.crt")
    with CaxtonClient(server.grpc_target, token=server.token, tls=tls) as client:
        answer = client.send_and_wait({"performative": "request", "receiver": ["echo"],
                                       "content": {"n": 1}})
        assert answer["reply"]["content"] == {"n": 1}

    async def agents() -> list[str]:
        async with AsyncCaxtonClient(server.grpc_target, token=server.token, tls=tls) as aclient:
            return [a["name"] for a in await aclient.agents()]

    assert "echo" in asyncio.run(agents())
    with CaxtonClient(server.grpc_target, timeout=10) as plain, \
            pytest.raises(ServerUnreachableError):
        plain.agents()


def test_a_server_whose_ca_is_not_trusted_is_refused(secure: tuple[ServerProcess, Pki]) -> None:
    server, pki = secure
    untrusted = {"CAXTON_TLS_CA": str(pki.other / "ca.crt")}
    rest = server.cli("agents", "list", check=False, env=untrusted)
    assert rest.returncode == 3
    assert f"error: TLS with {server.url} failed: " in rest.stderr
    assert "--tls-ca" in rest.stderr
    over_grpc = server.cli("agents", "list", "--transport", "grpc", check=False, env=untrusted)
    assert over_grpc.returncode == 3 and "over TLS" in over_grpc.stderr, over_grpc.stderr
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{server.url}/health", verify=ClientTls(pki.other / "ca.crt").ssl_context())


def test_plain_http_and_plain_grpc_to_tls_ports_fail_cleanly(
        secure: tuple[ServerProcess, Pki]) -> None:
    server, pki = secure
    plain_url = server.url.replace("https://", "http://")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{plain_url}/health", timeout=10)
    with socket.create_connection(address(server.url), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = sock.recv(1024)
    assert not answer.startswith(b"HTTP/")  # a TLS alert at most, then the connection closes
    cli = server.cli("agents", "list", check=False, env={"CAXTON_SERVER": plain_url})
    assert cli.returncode == 3 and "use an https:// URL" in cli.stderr, cli.stderr
    with grpc.insecure_channel(server.grpc_target) as channel, pytest.raises(grpc.RpcError) as err:
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert err.value.code() is grpc.StatusCode.UNAVAILABLE
    # The server is unharmed and said nothing about it beyond a log line at most.
    assert server.http.get("/health").status_code == 200
    with CaxtonClient(server.grpc_target, token=server.token,
                      tls=ClientTls(pki.dir / "ca.crt")) as client:
        assert client.status()["health"]["status"] == "ok"
    assert "Traceback" not in server.stderr() and "Handshake failed" not in server.stderr()


def test_a_connection_that_never_starts_its_handshake_is_closed_at_the_header_deadline(
        secure: tuple[ServerProcess, Pki]) -> None:
    server, pki = secure
    # http_header_timeout_s is 2 here; asyncio's own TLS handshake timeout would be 60 s.
    assert closed_within(address(server.url), timeout=60) < 20
    metrics = ("127.0.0.1", metrics_port(server))
    with socket.create_connection(metrics, timeout=10):  # silent, while others scrape
        answer = httpx.get(f"https://127.0.0.1:{metrics[1]}/metrics", timeout=10,
                           verify=ClientTls(pki.dir / "ca.crt").ssl_context())
        assert answer.status_code == 200
    assert closed_within(metrics, timeout=60) < 20


def test_the_metrics_port_speaks_tls(secure: tuple[ServerProcess, Pki]) -> None:
    server, pki = secure
    port = metrics_port(server)
    scrape = httpx.get(f"https://127.0.0.1:{port}/metrics", timeout=10,
                       verify=ClientTls(pki.dir / "ca.crt").ssl_context())
    assert scrape.status_code == 200 and "caxton_messages_routed_total" in scrape.text
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert served_serial(("127.0.0.1", port), pki.dir / "ca.crt") == serial_of(
        pki.dir / "node-server.crt")


def test_the_cli_finds_the_server_and_its_ca_through_the_data_dir(
        secure: tuple[ServerProcess, Pki]) -> None:
    server, _ = secure
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAXTON_SERVER",
                                                                     "CAXTON_GRPC", "CAXTON_TLS"))}
    env["CAXTON_DATA_DIR"] = str(server.data_dir)
    for transport in ("rest", "grpc"):
        status = subprocess.run([CAXTON, "server", "status", "--transport", transport],
                                capture_output=True, text=True, timeout=60, env=env)
        assert status.returncode == 0, status.stderr
        assert "ready" in status.stdout
    rest = subprocess.run([CAXTON, "server", "status"], capture_output=True, text=True,
                          timeout=60, env=env)
    assert server.url in rest.stdout


# -- client certificates -------------------------------------------------------------------
@pytest.fixture(scope="module")
def mutual(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Pki]]:
    root = tmp_path_factory.mktemp("mtls")
    pki = make_pki(root / "data", root / "other")
    server = tls_server(root / "data", pki, who="alice", env={
        "CAXTON_TLS_CLIENT_CA_FILE": str(pki.dir / "ca.crt"),
        "CAXTON_REST_CLIENT_CERTS": "required", "CAXTON_GRPC_CLIENT_CERTS": "required"})
    yield server, pki
    server.stop()


def test_rest_with_client_certificates_required(mutual: tuple[ServerProcess, Pki]) -> None:
    server, pki = mutual
    refused = {"no certificate": ClientTls(pki.dir / "ca.crt"),
               "another CA's certificate": pki.client("mallory", ca=pki.dir / "ca.crt")}
    for why, tls in refused.items():
        with pytest.raises(httpx.TransportError):
            answer = httpx.get(f"{server.url}/health", timeout=10, verify=tls.ssl_context())
            pytest.fail(f"{why}: answered {answer.status_code}")
    assert server.http.get("/health").status_code == 200  # alice's
    assert server.cli("agents", "list").returncode == 0  # the CLI with alice's
    without = server.cli("agents", "list", check=False, env={"CAXTON_TLS_CERT": "",
                                                               "CAXTON_TLS_KEY": ""})
    assert without.returncode == 3 and "--tls-cert" in without.stderr, without.stderr


def test_grpc_with_client_certificates_required(mutual: tuple[ServerProcess, Pki]) -> None:
    server, pki = mutual
    for tls in (ClientTls(pki.dir / "ca.crt"), pki.client("mallory", ca=pki.dir / "ca.crt")):
        with CaxtonClient(server.grpc_target, token=server.token, tls=tls, timeout=10) as client, \
                pytest.raises(ServerUnreachableError):
            client.status()
    with CaxtonClient(server.grpc_target, token=server.token, tls=pki.client("alice")) as client:
        assert client.status()["health"]["status"] == "ok"
    listed = server.cli("agents", "list", "--transport", "grpc")
    assert listed.returncode == 0
    without = server.cli("agents", "list", "--transport", "grpc", check=False,
                         env={"CAXTON_TLS_CERT": "", "CAXTON_TLS_KEY": ""})
    assert without.returncode == 3 and "--tls-cert" in without.stderr, without.stderr


def test_a_verified_client_certificate_reaches_rest_handlers_in_the_scope(
        tmp_path: Path) -> None:
    """The real HTTP protocol and a real TLS socket, with an app that reports the scope."""
    pki = make_pki(tmp_path / "data", tmp_path / "other")
    tls = ServerTls(TlsFiles(pki.dir / "node-server.crt", pki.dir / "node-server.key",
                             pki.dir / "ca.crt"), rest_client_certs="optional")
    seen: list[Any] = []

    async def app(scope: dict[str, Any], _receive: Any, send: Any) -> None:
        seen.append(scope.get(SCOPE_KEY))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def main() -> None:
        server = uvicorn.Server(uvicorn.Config(
            app, lifespan="off", log_config=None,
            http=guarded_protocol(header_timeout_s=5, max_connections=10),
            ssl_context_factory=lambda _config, _default: tls.rest_context))
        sock = bind("127.0.0.1", 0)
        url = f"https://127.0.0.1:{sock.getsockname()[1]}/"
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.02)
        try:
            for client in (pki.client("alice"), ClientTls(pki.dir / "ca.crt")):
                async with httpx.AsyncClient(verify=client.ssl_context()) as http:
                    assert (await http.get(url)).text == "ok"
                    assert (await http.get(url)).text == "ok"  # the same connection again
        finally:
            server.should_exit = True
            await task
            sock.close()

    asyncio.run(main())
    alice = ClientCertificate("alice", ("developer",))
    assert seen == [alice, alice, None, None]


def test_client_certificate_names_the_caller_of_a_grpc_call(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "data", tmp_path / "other")
    tls = ServerTls(TlsFiles(pki.dir / "node-server.crt", pki.dir / "node-server.key",
                             pki.dir / "ca.crt"), grpc_client_certs="required")
    seen: list[ClientCertificate | None] = []

    class Health(health_pb2_grpc.HealthServicer):
        async def Check(self, request: Any, context: Any) -> Any:
            seen.append(client_certificate(context))
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)

    async def main() -> None:
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
        port = server.add_secure_port("127.0.0.1:0", tls.grpc_credentials())
        await server.start()
        try:
            channel = grpc.aio.secure_channel(f"127.0.0.1:{port}",
                                              pki.client("alice").channel_credentials())
            async with channel:
                await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        finally:
            await server.stop(0)

    asyncio.run(main())
    assert seen == [ClientCertificate("alice", ("developer",))]


# -- rotation on SIGHUP ----------------------------------------------------------------------
def test_sighup_rotates_the_certificate_for_new_connections_only(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "data", tmp_path / "other")
    ca = pki.dir / "ca.crt"
    first = serial_of(pki.dir / "node-server.crt")
    server = tls_server(tmp_path / "data", pki, "--metrics-port", "0")
    try:
        with contextlib.ExitStack() as stack:
            assert server.proc is not None
            server.deploy(ECHO, "echo")
            rest, grpc_port = address(server.url), address(server.grpc_target)
            metrics = ("127.0.0.1", metrics_port(server))
            assert served_serial(rest, ca) == first
            assert served_serial(grpc_port, ca, alpn="h2") == first
            assert served_serial(metrics, ca) == first
            # Connections open before the rotation: a raw HTTP/1.1 one and a gRPC stream.
            kept = ClientTls(ca).ssl_context().wrap_socket(
                socket.create_connection(rest, timeout=10), server_hostname=rest[0])
            stack.callback(kept.close)
            assert get_health(kept) == b"HTTP/1.1 200 OK"
            client = CaxtonClient(server.grpc_target, token=server.token, tls=ClientTls(ca))
            stack.callback(client.close)
            stream = stack.enter_context(client.stream_messages(agent="echo"))

            caxton("security", "issue-cert", "--node", "server", "--dir", str(pki.dir))
            second = serial_of(pki.dir / "node-server.crt")
            assert second != first
            server.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: served_serial(rest, ca) == second, "REST to serve the new certificate")
            assert "TLS certificate reloaded" in server.stderr()
            assert served_serial(grpc_port, ca, alpn="h2") == second
            assert served_serial(metrics, ca) == second
            with CaxtonClient(server.grpc_target, token=server.token, tls=ClientTls(ca)) as fresh:
                assert fresh.status()["health"]["status"] == "ok"
            # The old connections go on, with the old certificate.
            assert get_health(kept) == b"HTTP/1.1 200 OK"
            der = kept.getpeercert(binary_form=True)
            assert der is not None and x509.load_der_x509_certificate(der).serial_number == first
            server.http.post("/api/v1/messages", json={"performative": "inform",
                                                       "receiver": ["echo"], "content": "after"})
            assert next(iter(stream))["content"] == "after"

            # A bad file: the old certificate stays, the error is logged, the server serves on.
            (pki.dir / "node-server.crt").write_text("-----BEGIN CERTIFICATE-----\ngarbage\n")
            server.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "TLS reload failed" in server.stderr(), "the failed reload's log line")
            failed = [json.loads(line) for line in server.stderr().splitlines()
                      if "TLS reload failed" in line]
            assert failed[0]["level"] == "error" and "node-server.crt" in failed[0]["reason"]
            assert served_serial(rest, ca) == second
            assert served_serial(grpc_port, ca, alpn="h2") == second
            assert server.http.get("/health").status_code == 200
    finally:
        server.stop()


def test_sighup_without_tls_does_not_stop_the_server(server: ServerProcess) -> None:
    assert server.proc is not None
    server.proc.send_signal(signal.SIGHUP)  # the default action would end the process
    wait_for(lambda: "nothing to reload" in server.stderr(), "the SIGHUP's log line")
    assert server.proc.poll() is None
    assert server.http.get("/health").status_code == 200


# -- the outbound MTP to https:// platforms --------------------------------------------------
def test_two_caxton_platforms_talk_over_https_with_client_certificates(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "alpha", tmp_path / "other", node="alpha")
    caxton("security", "issue-cert", "--node", "beta", "--dir", str(pki.dir))
    ca = str(pki.dir / "ca.crt")

    def mtp_env(node: str, **more: str) -> dict[str, str]:
        return {"CAXTON_PLATFORM_NAME": node, "CAXTON_MTP_TLS_CA_FILE": ca,
                "CAXTON_MTP_TLS_CERT_FILE": str(pki.dir / f"node-{node}.crt"),
                "CAXTON_MTP_TLS_KEY_FILE": str(pki.dir / f"node-{node}.key"),
                "CAXTON_MTP_ALLOWED_HOSTS": "127.0.0.1", **more}  # each other, on this host

    # alpha wants a client certificate from everyone, other platforms included.
    alpha = tls_server(tmp_path / "alpha", pki, node="alpha", who="alice", env=mtp_env(
        "alpha", CAXTON_TLS_CLIENT_CA_FILE=ca, CAXTON_REST_CLIENT_CERTS="required"))
    beta = tls_server(tmp_path / "beta", pki, node="beta", env=mtp_env("beta"))
    try:
        alpha.deploy(ECHO, "echo")
        acc = f"{alpha.url}/acc"
        answer = beta.http.post("/api/v1/messages", params={"wait": "true", "timeout": "30"},
                                json={"performative": "request", "receiver": ["echo@alpha"],
                                      "addresses": {"echo@alpha": [acc]},
                                      "content": {"over": "https"}})
        assert answer.status_code == 200, answer.text
        reply = answer.json()["reply"]
        assert (reply["performative"], reply["sender"]) == ("inform", "echo@alpha")
        assert reply["content"] == {"over": "https"}
        sent = alpha.http.get("/api/v1/agents/echo").json()["stats"]["handled"]
        assert sent == 1
    finally:
        beta.stop()
        alpha.stop()


def test_the_outbound_mtp_refuses_a_platform_it_cannot_verify(
        tmp_path: Path, secure: tuple[ServerProcess, Pki]) -> None:
    server, pki = secure
    # A platform whose certificate comes from a CA the server does not trust.
    caxton("security", "issue-cert", "--node", "stranger", "--dir", str(pki.other))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.other / "node-stranger.crt", pki.other / "node-stranger.key")
    peer = Peer(tls=context)
    try:
        answer = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "30"},
                                  json={"performative": "request", "receiver": ["x@far"],
                                        "addresses": {"x@far": [peer.url]}, "content": 1})
        assert answer.status_code == 200, answer.text
        reply = answer.json()["reply"]
        assert (reply["performative"], reply["sender"]) == ("failure", "ams")
        assert "CERTIFICATE_VERIFY_FAILED" in reply["content"]["reason"]
        assert peer.quiet(0.5)
    finally:
        peer.server.shutdown()
        peer.server.server_close()

"""JWT bearer tokens (HS256 and a JWK Set file) through a real server, REST and gRPC."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from tests.conftest import ServerProcess

from caxton.client import CaxtonClient
from caxton.errors import AuthenticationError

SECRET = b"s" * 48
ISSUER, AUDIENCE = "https://idp.example.org", "caxton-test"


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300,
            "caxton_role": "developer", **extra}


def hs256(**extra: Any) -> str:
    return jwt.encode(claims(**extra), SECRET, algorithm="HS256")


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    return {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ed": ed25519.Ed25519PrivateKey.generate()}


def jwks(*entries: tuple[str, Any]) -> str:
    out = []
    for kid, private in entries:
        algorithm = jwt.algorithms.RSAAlgorithm if isinstance(private, rsa.RSAPrivateKey) \
            else jwt.algorithms.OKPAlgorithm
        jwk = json.loads(algorithm.to_jwk(private.public_key()))
        out.append({**jwk, "kid": kid, "use": "sig"})
    return json.dumps({"keys": out})


@pytest.fixture(scope="module")
def jwt_server(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Any]
               ) -> Iterator[tuple[ServerProcess, Path]]:
    base = tmp_path_factory.mktemp("jwt")
    (base / "secret").write_bytes(SECRET)
    (base / "jwks.json").write_text(jwks(("rsa-1", keys["rsa"])))
    proc = ServerProcess(base / "data", env={
        "CAXTON_JWT_HS256_SECRET_FILE": str(base / "secret"),
        "CAXTON_JWT_JWKS_FILE": str(base / "jwks.json"),
        "CAXTON_JWT_ISSUER": ISSUER, "CAXTON_JWT_AUDIENCE": AUDIENCE,
        "CAXTON_JWT_LEEWAY_S": "5", "CAXTON_AUTH_FAILURE_BURST": "1000"}).start()
    yield proc, base / "jwks.json"
    proc.stop()


def get(server: ServerProcess, token: str, path: str = "/api/v1/agents") -> httpx.Response:
    return httpx.get(server.url + path, headers={"authorization": f"Bearer {token}"},
                     timeout=30)


def test_valid_tokens_are_accepted_with_their_role(jwt_server: tuple[ServerProcess, Path]
                                                   ) -> None:
    server, _ = jwt_server
    assert get(server, hs256()).status_code == 200
    viewer = hs256(caxton_role="viewer")
    assert get(server, viewer).status_code == 200
    refused = httpx.post(server.url + "/api/v1/agents/echo/stop",
                         headers={"authorization": f"Bearer {viewer}"})
    assert refused.status_code == 403
    deadline = time.monotonic() + 10  # rows reach the table with the next group commit
    while not (audit := server.http.get("/api/v1/audit", params={"actor": "jwt:alice"}
                                        ).json()["events"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert audit and audit[-1]["outcome"] == "denied"


@pytest.mark.parametrize(("case", "token_claims", "says"), [
    ("expired", {"exp": -60}, "expired"),  # times relative to now, made when the test runs
    ("not yet valid", {"nbf": 600}, "not yet valid"),
    ("wrong audience", {"aud": "someone-else"}, "audience"),
    ("wrong issuer", {"iss": "https://evil.example"}, "issuer"),
    ("unknown role", {"caxton_role": "root"}, "role"),
])
def test_bad_tokens_are_refused(jwt_server: tuple[ServerProcess, Path], case: str,
                                token_claims: dict[str, Any], says: str) -> None:
    server, _ = jwt_server
    now = int(time.time())
    token_claims = {k: now + v if k in ("exp", "nbf") else v for k, v in token_claims.items()}
    refused = get(server, hs256(**token_claims))
    assert refused.status_code == 401, case
    assert says in refused.json()["message"].lower(), refused.json()


def test_forged_and_unsigned_tokens_are_refused(jwt_server: tuple[ServerProcess, Path]
                                                ) -> None:
    server, _ = jwt_server
    forged = jwt.encode(claims(caxton_role="admin"), b"x" * 48, algorithm="HS256")
    assert get(server, forged).status_code == 401
    unsigned = jwt.encode(claims(caxton_role="admin"), None, algorithm="none")  # type: ignore[arg-type]
    assert get(server, unsigned).status_code == 401


def test_jwks_file_rotation_without_restart(jwt_server: tuple[ServerProcess, Path],
                                            keys: dict[str, Any]) -> None:
    server, jwks_file = jwt_server
    rs = jwt.encode(claims(), keys["rsa"], algorithm="RS256", headers={"kid": "rsa-1"})
    assert get(server, rs).status_code == 200
    ed = jwt.encode(claims(sub="bob"), keys["ed"], algorithm="EdDSA", headers={"kid": "ed-1"})
    assert get(server, ed).status_code == 401  # not in the set yet
    jwks_file.write_text(jwks(("rsa-1", keys["rsa"]), ("ed-1", keys["ed"])))
    assert get(server, ed).status_code == 200  # an unknown kid re-reads the file
    jwks_file.write_text(jwks(("ed-1", keys["ed"])))  # rsa-1 retired
    rs_new = jwt.encode(claims(sub="carol"), keys["rsa"], algorithm="RS256",
                        headers={"kid": "rsa-1"})
    assert get(server, rs_new).status_code == 401


def test_jwt_over_grpc(jwt_server: tuple[ServerProcess, Path]) -> None:
    server, _ = jwt_server
    with CaxtonClient(server.grpc_target, token=hs256()) as client:
        assert isinstance(client.agents(), list)
    with CaxtonClient(server.grpc_target, token=hs256(exp=int(time.time()) - 60)) as client, \
            pytest.raises(AuthenticationError, match="expired"):
        client.agents()
    with grpc.insecure_channel(server.grpc_target) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            channel.unary_unary("/caxton.v1.AgentService/ListAgents")(
                b"", metadata=[("authorization", f"Bearer {hs256(aud='x')}")], timeout=10)
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED

"""Unit tests for the JWT verifier: real keys (cryptography), real tokens (pyjwt), a real JWKS
endpoint (http.server on 127.0.0.1 in a thread). A fake monotonic clock drives the JWKS cache and
refetch interval, so the tests need not sleep through them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import hashlib
import hmac
import json
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from caxton.errors import AuthenticationError, CaxtonError, ConfigError
from caxton.security import Role
from caxton.security.jwks import STALE_GRACE_S
from caxton.security.jwt_tokens import JwtSettings, JwtVerifier

SECRET = b"0123456789abcdef0123456789abcdef-test"
ISSUER, AUDIENCE = "https://idp.test", "caxton-test"
DROP: Any = object()  # a claim left out


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rsa_key2() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem(tmp_path: Path, key: Any, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def token(key: Any, alg: str = "RS256", *, kid: str | None = None,
          headers: dict[str, Any] | None = None, **claims: Any) -> str:
    body = {"sub": "alice", "exp": int(time.time()) + 300, "caxton_role": "developer",
            "iss": ISSUER, "aud": AUDIENCE, **claims}
    body = {name: value for name, value in body.items() if value is not DROP}
    head = ({"kid": kid} if kid else {}) | (headers or {})
    return jwt.encode(body, key, algorithm=alg, headers=head or None)


def jwk(key: Any, kid: str, **extra: Any) -> dict[str, Any]:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        data = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        data = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        data = OKPAlgorithm.to_jwk(public, as_dict=True)
    return {**data, "kid": kid, **extra}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_signed(header: dict[str, Any], claims: dict[str, Any], hmac_key: bytes | None) -> str:
    """A token signed (or not) by hand, as an attacker would forge it."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if hmac_key is None:
        return signing_input + "."
    mac = hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "mallory", "exp": int(time.time()) + 300, "caxton_role": "admin",
            "iss": ISSUER, "aud": AUDIENCE, **extra}


def refusal(verifier: JwtVerifier, tok: str) -> str:
    with pytest.raises(AuthenticationError) as info:
        verifier.verify(tok)
    assert isinstance(info.value, CaxtonError)
    assert info.value.code == "unauthenticated"
    return info.value.message


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def settings(**kwargs: Any) -> JwtSettings:
    kwargs.setdefault("issuer", ISSUER)
    kwargs.setdefault("audience", AUDIENCE)
    return JwtSettings(**kwargs)


# -- valid tokens ---------------------------------------------------------------------------

def test_a_valid_hs256_token_gives_its_principal() -> None:
    verifier = JwtVerifier(settings(hs256_secret=SECRET))
    principal = verifier.verify(token(SECRET, "HS256", jti="t-1", caxton_role="operator",
                                      caxton_agents=["shop-*", "billing"]))
    assert principal.actor == "jwt:alice"
    assert principal.role is Role.operator
    assert principal.agents == ("shop-*", "billing")
    assert (principal.method, principal.key_id) == ("jwt", "t-1")
    assert principal.covers("shop-7") and not principal.covers("hr")


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_a_valid_rsa_token_is_accepted(alg: str, rsa_key: Any, tmp_path: Path) -> None:
    verifier = JwtVerifier(settings(public_key_files=(pem(tmp_path, rsa_key, "rsa.pem"),)))
    principal = verifier.verify(token(rsa_key, alg, caxton_role="viewer"))
    assert (principal.role, principal.agents, principal.key_id) == (Role.viewer, ("*",), "")


def test_valid_eddsa_and_es256_tokens_are_accepted(ed_key: Any, ec_key: Any,
                                                   tmp_path: Path) -> None:
    verifier = JwtVerifier(settings(public_key_files=(pem(tmp_path, ed_key, "ed.pem"),
                                                      pem(tmp_path, ec_key, "ec.pem"))))
    assert verifier.verify(token(ed_key, "EdDSA", caxton_role="admin")).role is Role.admin
    assert verifier.verify(token(ec_key, "ES256")).role is Role.developer
    assert verifier.algorithms == {"EdDSA", "ES256"}


def test_a_certificate_file_serves_as_a_public_key(rsa_key: Any, tmp_path: Path) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(rsa_key.public_key()).serial_number(1)
            .not_valid_before(datetime.datetime(2020, 1, 1))
            .not_valid_after(datetime.datetime(2040, 1, 1))
            .sign(rsa_key, hashes.SHA256()))
    path = tmp_path / "idp.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    assert JwtVerifier(settings(public_key_files=(path,))).verify(token(rsa_key)).actor \
        == "jwt:alice"


# -- refusals -------------------------------------------------------------------------------

def test_each_bad_token_is_refused_with_its_own_reason(rsa_key: Any, rsa_key2: Any,
                                                       tmp_path: Path) -> None:
    verifier = JwtVerifier(settings(public_key_files=(pem(tmp_path, rsa_key, "rsa.pem"),),
                                    leeway_s=0))
    now = int(time.time())
    good = token(rsa_key)
    head, _, sig = good.split(".")
    tampered_body = b64(json.dumps(claims(sub="alice", caxton_role="admin")).encode())
    cases = {
        "no token": "",
        "malformed": "not.a.jwt",
        "bad signature": token(rsa_key2),
        "bad signature ": f"{head}.{tampered_body}.{sig}",  # payload changed after signing
        "expired": token(rsa_key, exp=now - 5),
        "not yet valid (nbf)": token(rsa_key, nbf=now + 120),
        "issued in the future": token(rsa_key, iat=now + 120),
        "wrong audience": token(rsa_key, aud="another-service"),
        "wrong issuer": token(rsa_key, iss="https://evil.test"),
        "lacks the 'exp' claim": token(rsa_key, exp=DROP),
        "lacks the 'sub' claim": token(rsa_key, sub=DROP),
        "lacks the 'aud' claim": token(rsa_key, aud=DROP),
        "no role claim 'caxton_role'": token(rsa_key, caxton_role=DROP),
        "unknown role 'superuser'": token(rsa_key, caxton_role="superuser"),
        "must be a role name": token(rsa_key, caxton_role=7),
        "agents claim": token(rsa_key, caxton_agents=[1, 2]),
        "unsigned token (alg 'none')": hand_signed({"alg": "none", "typ": "JWT"}, claims(),
                                                   None),
        "algorithm 'HS256' not allowed": hand_signed(
            {"alg": "HS256", "typ": "JWT"}, claims(),
            pem(tmp_path, rsa_key, "again.pem").read_bytes()),
        "too long": "a" * 20_000,
    }
    seen = set()
    for reason, tok in cases.items():
        message = refusal(verifier, tok)
        assert reason.strip() in message, (reason, message)
        seen.add(message)
    assert len(seen) == len(cases) - 1  # the two bad signatures share their reason


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_unsigned_tokens_are_refused_whatever_the_case(alg: str) -> None:
    verifier = JwtVerifier(settings(hs256_secret=SECRET))
    assert "unsigned" in refusal(verifier, hand_signed({"alg": alg}, claims(), None))


def test_key_confusion_hs256_signed_with_the_public_key_is_refused(rsa_key: Any,
                                                                   tmp_path: Path) -> None:
    """The classic attack: the verifier's RSA public key (public!) used as an HMAC secret."""
    path = pem(tmp_path, rsa_key, "rsa.pem")
    forged = hand_signed({"alg": "HS256", "typ": "JWT"}, claims(), path.read_bytes())
    only_rsa = JwtVerifier(settings(public_key_files=(path,)))
    assert "not allowed" in refusal(only_rsa, forged)
    # With HS256 allowed too (a secret is configured), HMAC checks against the secret only.
    both = JwtVerifier(settings(public_key_files=(path,), hs256_secret=SECRET))
    assert both.algorithms == {"HS256", "RS256", "PS256"}
    assert "bad signature" in refusal(both, forged)
    assert both.verify(token(rsa_key)).actor == "jwt:alice"
    assert both.verify(token(SECRET, "HS256")).actor == "jwt:alice"
    # Nor can HMAC be allowed without a secret, or the secret be a public key.
    with pytest.raises(ConfigError, match="never verifies with a public key"):
        JwtSettings(public_key_files=(path,), algorithms=("RS256", "HS256"))
    with pytest.raises(ConfigError, match="looks like a key"):
        JwtSettings(hs256_secret=path.read_bytes())


def test_keys_a_token_carries_in_its_header_are_ignored(rsa_key: Any, rsa_key2: Any,
                                                        tmp_path: Path) -> None:
    verifier = JwtVerifier(settings(public_key_files=(pem(tmp_path, rsa_key, "rsa.pem"),)))
    forged = token(rsa_key2, headers={"jwk": jwk(rsa_key2, "evil"),
                                      "jku": "http://127.0.0.1:9/jwks"})
    assert "bad signature" in refusal(verifier, forged)


def test_an_algorithm_outside_the_allowed_list_is_refused(rsa_key: Any, tmp_path: Path) -> None:
    verifier = JwtVerifier(settings(public_key_files=(pem(tmp_path, rsa_key, "rsa.pem"),),
                                    algorithms=("RS256",)))
    assert "'PS256' not allowed" in refusal(verifier, token(rsa_key, "PS256"))


def test_a_key_of_the_wrong_type_is_not_tried(ed_key: Any, ec_key: Any, tmp_path: Path) -> None:
    verifier = JwtVerifier(settings(public_key_files=(pem(tmp_path, ed_key, "ed.pem"),),
                                    algorithms=("EdDSA", "ES256")))
    assert "no configured key verifies ES256" in refusal(verifier, token(ec_key, "ES256"))


def test_without_issuer_and_audience_settings_a_token_naming_an_audience_is_refused(
        rsa_key: Any, tmp_path: Path) -> None:
    verifier = JwtVerifier(JwtSettings(public_key_files=(pem(tmp_path, rsa_key, "rsa.pem"),)))
    assert verifier.verify(token(rsa_key, aud=DROP, iss="anyone", kid="any")).actor == "jwt:alice"
    assert "wrong audience" in refusal(verifier, token(rsa_key))


def test_leeway_is_honoured(rsa_key: Any, tmp_path: Path) -> None:
    path = pem(tmp_path, rsa_key, "rsa.pem")
    now = int(time.time())
    late, early = token(rsa_key, exp=now - 10), token(rsa_key, nbf=now + 10)
    lenient = JwtVerifier(settings(public_key_files=(path,), leeway_s=30))
    assert lenient.verify(late).actor == lenient.verify(early).actor == "jwt:alice"
    strict = JwtVerifier(settings(public_key_files=(path,), leeway_s=0))
    assert "expired" in refusal(strict, late)
    assert "not yet valid" in refusal(strict, early)


def test_a_role_list_counts_its_highest_known_role(rsa_key: Any, tmp_path: Path) -> None:
    path = pem(tmp_path, rsa_key, "rsa.pem")
    verifier = JwtVerifier(settings(public_key_files=(path,), role_claim="roles"))
    assert verifier.verify(token(rsa_key, roles=["viewer", "offline_access", "operator"])
                           ).role is Role.operator
    assert "unknown role 'offline_access'" in refusal(
        verifier, token(rsa_key, roles=["offline_access"]))
    assert "unknown role none" in refusal(verifier, token(rsa_key, roles=[]))


def test_dotted_claim_names_reach_nested_claims(rsa_key: Any, tmp_path: Path) -> None:
    verifier = JwtVerifier(settings(public_key_files=(pem(tmp_path, rsa_key, "rsa.pem"),),
                                    role_claim="realm_access.roles",
                                    agents_claim="https://caxton.test/agents"))
    principal = verifier.verify(token(rsa_key, realm_access={"roles": ["admin"]},
                                      **{"https://caxton.test/agents": ["ops-*"]}))
    assert (principal.role, principal.agents) == (Role.admin, ("ops-*",))


def test_sub_and_jti_must_be_short_printable_strings(rsa_key: Any, tmp_path: Path) -> None:
    verifier = JwtVerifier(settings(public_key_files=(pem(tmp_path, rsa_key, "rsa.pem"),)))
    assert "sub claim" in refusal(verifier, token(rsa_key, sub="alice\nadmin"))
    assert "sub claim" in refusal(verifier, token(rsa_key, sub="a" * 300))
    assert "jti claim" in refusal(verifier, token(rsa_key, jti="x" * 300))
    assert "sub claim is empty" in refusal(verifier, token(rsa_key, sub=""))


def test_an_exp_beyond_any_float_is_handled(rsa_key: Any, tmp_path: Path) -> None:
    verifier = JwtVerifier(settings(public_key_files=(pem(tmp_path, rsa_key, "rsa.pem"),)))
    far = token(rsa_key, exp=10**400)
    assert verifier.verify(far).actor == verifier.verify(far).actor == "jwt:alice"


def test_mangled_tokens_only_ever_raise_authentication_errors(rsa_key: Any,
                                                              tmp_path: Path) -> None:
    """Bounded fuzzing: flipped characters and odd header/claim types never crash verify."""
    verifier = JwtVerifier(settings(public_key_files=(pem(tmp_path, rsa_key, "rsa.pem"),)))
    good = token(rsa_key, kid="k")
    expected = verifier.verify(good)
    rng = random.Random(13)
    alphabet = "ABCxyz019-_.=+/ \x00é"
    odd_headers = [{"alg": ["RS256"]}, {"alg": "RS256", "kid": 7}, {"alg": "RS256", "crit": ["x"]},
                   {"alg": 1}, {}, {"alg": "RS256", "kid": "k" * 1000}, {"alg": "HS999"}]
    odd_claims = [{"exp": "soon"}, {"aud": {"a": 1}}, {"sub": 5}, {"iss": ["x"]},
                  {"nbf": None}, {"iat": "x"}, {"caxton_agents": "x" * 10_000}]
    for i in range(600):
        if i < 500:
            chars = list(good)
            for _ in range(rng.randint(1, 4)):
                chars[rng.randrange(len(chars))] = rng.choice(alphabet)
            tok = "".join(chars)
        else:
            head = rng.choice(odd_headers)
            tok = hand_signed(head, claims() | rng.choice(odd_claims), b"k" * 32)
        with contextlib.suppress(AuthenticationError):
            assert verifier.verify(tok) == expected  # a flip in padding bits decodes the same


def test_accepts_tells_jwts_from_api_keys(rsa_key: Any) -> None:
    assert JwtVerifier.accepts(token(rsa_key))
    assert JwtVerifier.accepts(hand_signed({"alg": "none"}, claims(), None))
    for other in ("cxk_AbC123_xyz", "", "a.b", "a.b.c.d", "a b.c.d", "a" * 20_000 + ".b.c"):
        assert not JwtVerifier.accepts(other), other


# -- settings -------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "needle"), [
    ({}, "no key source"),
    ({"hs256_secret": b"short"}, "at least 32 bytes"),
    ({"hs256_secret": SECRET, "algorithms": ("none",)}, "'none'"),
    ({"hs256_secret": SECRET, "algorithms": ("HS257",)}, "unknown algorithm"),
    ({"hs256_secret": SECRET, "algorithms": ("RS256",)}, "no HS algorithm is allowed"),
    ({"hs256_secret": SECRET, "algorithms": ("HS256", "RS256")}, "no public key"),
    ({"jwks_url": "file:///etc/passwd", "issuer": "i", "audience": "a"}, "http:// or https://"),
    ({"jwks_url": "https://", "issuer": "i", "audience": "a"}, "http:// or https://"),
    ({"jwks_url": "https://idp.test/jwks"}, "issuer and the audience"),
    ({"jwks_url": "https://idp.test/jwks", "issuer": "i"}, "issuer and the audience"),
    ({"hs256_secret": SECRET, "algorithms": ("HS256", "HS512")}, "HS512 needs a secret of at"),
    ({"hs256_secret": SECRET, "leeway_s": -1}, "leeway"),
    ({"hs256_secret": SECRET, "jwks_timeout_s": 0}, "JWKS timeout"),
    ({"hs256_secret": SECRET, "jwks_refetch_interval_s": 0}, "refetch interval"),
    ({"hs256_secret": SECRET, "role_claim": ""}, "claim names"),
])
def test_bad_settings_are_refused(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        JwtSettings(**kwargs)


def test_the_secret_is_not_in_the_settings_repr() -> None:
    assert "0123456789" not in repr(JwtSettings(hs256_secret=SECRET))


def test_bad_public_key_files_are_refused(rsa_key: Any, tmp_path: Path) -> None:
    private = tmp_path / "private.pem"
    private.write_bytes(rsa_key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    weak = pem(tmp_path, rsa.generate_private_key(public_exponent=65537, key_size=1024),
               "weak.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    for path, needle in ((private, "private key"), (weak, "too weak"),
                         (garbage, "not a PEM public key"), (tmp_path / "none.pem", "cannot read")):
        with pytest.raises(ConfigError, match=needle):
            JwtVerifier(settings(public_key_files=(path,)))


# -- JWKS file ------------------------------------------------------------------------------

def write_jwks(path: Path, *members: dict[str, Any]) -> None:
    """Replace the file atomically, as the docs advise."""
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps({"keys": list(members)}))
    os.replace(scratch, path)


def test_a_jwks_file_rotation_needs_no_restart(rsa_key: Any, ed_key: Any, tmp_path: Path
                                               ) -> None:
    path = tmp_path / "jwks.json"
    write_jwks(path, jwk(rsa_key, "r1"))
    verifier = JwtVerifier(settings(jwks_file=path))
    assert verifier.verify(token(rsa_key, kid="r1")).actor == "jwt:alice"
    assert "unknown key id 'e1'" in refusal(verifier, token(ed_key, "EdDSA", kid="e1"))
    write_jwks(path, jwk(rsa_key, "r1"), jwk(ed_key, "e1"))
    assert verifier.verify(token(ed_key, "EdDSA", kid="e1", sub="bob")).actor == "jwt:bob"
    write_jwks(path, jwk(ed_key, "e1"))  # r1 retired
    assert "unknown key id 'r1'" in refusal(verifier, token(rsa_key, kid="r1", sub="carol"))


def test_a_damaged_jwks_file_keeps_the_keys_read_before(rsa_key: Any, tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    write_jwks(path, jwk(rsa_key, "r1"))
    verifier = JwtVerifier(settings(jwks_file=path))
    path.write_text('{"keys": [')  # half written
    assert verifier.verify(token(rsa_key, kid="r1")).actor == "jwt:alice"
    path.unlink()
    assert verifier.verify(token(rsa_key, kid="r1", sub="bob")).actor == "jwt:bob"


def test_a_jwks_file_only_supplies_public_signing_keys(rsa_key: Any, ed_key: Any,
                                                       tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    oct_key = {"kty": "oct", "kid": "h1", "k": b64(SECRET)}
    private = {**RSAAlgorithm.to_jwk(rsa_key, as_dict=True), "kid": "p1"}
    write_jwks(path, oct_key, private, jwk(ed_key, "enc1", use="enc"),
               jwk(ed_key, "e1", alg="EdDSA"))
    verifier = JwtVerifier(settings(jwks_file=path))
    assert "HS256' not allowed" in refusal(verifier, token(SECRET, "HS256", kid="h1"))
    assert "unknown key id 'p1'" in refusal(verifier, token(rsa_key, kid="p1"))
    assert "unknown key id 'enc1'" in refusal(verifier, token(ed_key, "EdDSA", kid="enc1"))
    assert verifier.verify(token(ed_key, "EdDSA", kid="e1")).actor == "jwt:alice"
    write_jwks(path, oct_key)
    with pytest.raises(ConfigError, match="no usable public signing key"):
        JwtVerifier(settings(jwks_file=path))
    with pytest.raises(ConfigError, match="JWKS file"):
        JwtVerifier(settings(jwks_file=tmp_path / "missing.json"))


def test_a_jwk_declaring_an_algorithm_verifies_only_that_one(rsa_key: Any, tmp_path: Path
                                                             ) -> None:
    path = tmp_path / "jwks.json"
    write_jwks(path, jwk(rsa_key, "r1", alg="RS256"))
    verifier = JwtVerifier(settings(jwks_file=path))
    assert verifier.verify(token(rsa_key, "RS256", kid="r1")).actor == "jwt:alice"
    assert "no configured key verifies PS256" in refusal(verifier,
                                                         token(rsa_key, "PS256", kid="r1"))


def test_verified_tokens_are_cached_for_a_minute_at_most(rsa_key: Any, rsa_key2: Any,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    write_jwks(path, jwk(rsa_key, "r1"))
    clock = Clock()
    verifier = JwtVerifier(settings(jwks_file=path), clock=clock)
    long_lived, short_lived = token(rsa_key, kid="r1"), token(rsa_key, kid="r1",
                                                              exp=int(time.time()) + 5)
    verifier.verify(long_lived)
    verifier.verify(short_lived)
    write_jwks(path, jwk(rsa_key2, "r2"))  # r1 withdrawn
    assert verifier.verify(long_lived).actor == "jwt:alice"  # from the cache
    clock.advance(10)
    assert "unknown key id 'r1'" in refusal(verifier, short_lived)  # cached until its exp
    assert verifier.verify(long_lived).actor == "jwt:alice"
    clock.advance(55)
    assert "unknown key id 'r1'" in refusal(verifier, long_lived)
    uncached = JwtVerifier(settings(jwks_file=path, token_cache_size=0), clock=clock)
    write_jwks(path, jwk(rsa_key, "r1"))
    uncached.verify(long_lived)
    write_jwks(path, jwk(rsa_key2, "r2"))
    assert "unknown key id 'r1'" in refusal(uncached, long_lived)


# -- JWKS URL -------------------------------------------------------------------------------

class Idp:
    """A JWKS endpoint on 127.0.0.1: serves ``document``, counts requests, can fail or stall."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.requests = 0
        self.status = 200
        self.delay_s = 0.0
        self.stall = threading.Event()  # set: requests hang until released
        self.release = threading.Event()
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                idp.requests += 1
                if idp.stall.is_set():
                    idp.release.wait(30)
                time.sleep(idp.delay_s)
                body = json.dumps(idp.document).encode()
                self.send_response(idp.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def idp() -> Iterator[Idp]:
    server = Idp()
    yield server
    server.close()


def url_verifier(url: str, clock: Clock | None = None, **kwargs: Any) -> JwtVerifier:
    kwargs.setdefault("jwks_timeout_s", 5.0)
    return JwtVerifier(settings(jwks_url=url, **kwargs), clock=clock or Clock())


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_jwks_url_is_fetched_once_and_cached(idp: Idp, rsa_key: Any) -> None:
    idp.document = {"keys": [jwk(rsa_key, "r1")]}
    clock = Clock()
    verifier = url_verifier(idp.url, clock)
    for n in range(5):
        assert verifier.verify(token(rsa_key, kid="r1", jti=str(n))).actor == "jwt:alice"
    assert idp.requests == 1  # at start; the other verifies used the cache
    clock.advance(301)  # past the cache time: refreshed in the background, keys kept meanwhile
    assert verifier.verify(token(rsa_key, kid="r1", jti="late")).actor == "jwt:alice"
    wait_for(lambda: idp.requests == 2)
    assert verifier.verify(token(rsa_key, kid="r1", jti="later")).actor == "jwt:alice"
    time.sleep(0.2)
    assert idp.requests == 2


def test_a_jwks_url_rotation_is_picked_up_on_an_unknown_kid(idp: Idp, rsa_key: Any,
                                                            ed_key: Any) -> None:
    idp.document = {"keys": [jwk(rsa_key, "r1")]}
    clock = Clock()
    verifier = url_verifier(idp.url, clock)
    assert verifier.verify(token(rsa_key, kid="r1")).actor == "jwt:alice"
    idp.document = {"keys": [jwk(rsa_key, "r1"), jwk(ed_key, "e1")]}
    clock.advance(31)  # the refetch interval since the first fetch
    assert verifier.verify(token(ed_key, "EdDSA", kid="e1")).actor == "jwt:alice"
    assert idp.requests == 2


def test_threads_that_meet_a_new_kid_together_share_one_fetch(idp: Idp, rsa_key: Any,
                                                             ed_key: Any) -> None:
    idp.document = {"keys": [jwk(rsa_key, "r1")]}
    clock = Clock()
    verifier = url_verifier(idp.url, clock)
    verifier.verify(token(rsa_key, kid="r1"))
    idp.document = {"keys": [jwk(rsa_key, "r1"), jwk(ed_key, "e1")]}
    idp.delay_s = 0.3  # so the threads arrive while the fetch is under way
    clock.advance(31)
    tokens = [token(ed_key, "EdDSA", kid="e1", jti=str(n)) for n in range(8)]
    results: list[Any] = [None] * len(tokens)

    def check(n: int) -> None:
        try:
            results[n] = verifier.verify(tokens[n]).actor
        except AuthenticationError as exc:
            results[n] = exc.message

    threads = [threading.Thread(target=check, args=(n,)) for n in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == ["jwt:alice"] * len(tokens)
    assert idp.requests == 2


def test_random_kids_cannot_make_us_hammer_the_provider(idp: Idp, rsa_key: Any) -> None:
    idp.document = {"keys": [jwk(rsa_key, "r1")]}
    clock = Clock()
    verifier = url_verifier(idp.url, clock, jwks_refetch_interval_s=30)
    verifier.verify(token(rsa_key, kid="r1"))
    for round_ in range(3):
        clock.advance(31)
        for n in range(40):
            kid = f"random-{round_}-{n}"
            assert f"unknown key id '{kid}'" in refusal(verifier, token(rsa_key, kid=kid))
        assert idp.requests == 2 + round_  # one refetch per interval, not one per token
    assert verifier.verify(token(rsa_key, kid="r1")).actor == "jwt:alice"


def test_a_provider_that_is_down_gives_a_clear_refusal(rsa_key: Any) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verifier = url_verifier(f"http://127.0.0.1:{port}/jwks")
    start = time.monotonic()
    message = refusal(verifier, token(rsa_key, kid="r1"))
    assert "unknown key id 'r1'" in message and "could not be fetched" in message
    assert time.monotonic() - start < 10


def test_a_stalled_provider_times_out(idp: Idp, rsa_key: Any) -> None:
    idp.document = {"keys": [jwk(rsa_key, "r1")]}
    idp.stall.set()
    verifier = url_verifier(idp.url, jwks_timeout_s=0.5)
    start = time.monotonic()
    message = refusal(verifier, token(rsa_key, kid="r1"))
    assert "unknown key id 'r1'" in message
    assert "could not be fetched" in message or "being fetched" in message
    assert time.monotonic() - start < 10


def test_keys_stay_in_use_while_the_provider_is_down_for_a_while(idp: Idp, rsa_key: Any) -> None:
    idp.document = {"keys": [jwk(rsa_key, "r1")]}
    clock = Clock()
    verifier = url_verifier(idp.url, clock)
    verifier.verify(token(rsa_key, kid="r1"))
    idp.status = 503
    clock.advance(301)
    assert verifier.verify(token(rsa_key, kid="r1", jti="a")).actor == "jwt:alice"
    wait_for(lambda: idp.requests == 2)
    clock.advance(STALE_GRACE_S)
    message = refusal(verifier, token(rsa_key, kid="r1", jti="b"))
    assert "could not be fetched" in message and "503" in message
    idp.status = 200
    clock.advance(31)
    assert verifier.verify(token(rsa_key, kid="r1", jti="c")).actor == "jwt:alice"


def test_a_jwks_file_key_does_not_wait_for_a_stalled_provider(idp: Idp, rsa_key: Any,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    write_jwks(path, jwk(rsa_key, "file-1"))
    idp.stall.set()
    verifier = url_verifier(idp.url, jwks_file=path, jwks_timeout_s=5)
    start = time.monotonic()
    assert verifier.verify(token(rsa_key, kid="file-1")).actor == "jwt:alice"
    assert time.monotonic() - start < 3  # not the 6 s a wait for the provider would take


def test_verify_async_does_not_block_the_event_loop_while_fetching(idp: Idp, rsa_key: Any
                                                                   ) -> None:
    idp.document = {"keys": [jwk(rsa_key, "r1")]}
    idp.delay_s = 0.5
    verifier = url_verifier(idp.url)
    ticks = 0

    async def ticker(stop: asyncio.Event) -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    async def main() -> list[Any]:
        stop = asyncio.Event()
        tick = asyncio.create_task(ticker(stop))
        results = await asyncio.gather(*(verifier.verify_async(token(rsa_key, kid="r1", jti=str(n)))
                                         for n in range(20)))
        stop.set()
        await tick
        return results

    results = asyncio.run(main())
    assert all(p.actor == "jwt:alice" for p in results)
    assert idp.requests == 1  # twenty waiters, one fetch
    assert ticks >= 10  # the loop ran on while the provider took half a second


def test_verify_async_refuses_like_verify(rsa_key: Any, tmp_path: Path) -> None:
    verifier = JwtVerifier(settings(public_key_files=(pem(tmp_path, rsa_key, "rsa.pem"),)))
    with pytest.raises(AuthenticationError, match="expired"):
        asyncio.run(verifier.verify_async(token(rsa_key, exp=int(time.time()) - 100)))
    assert asyncio.run(verifier.verify_async(token(rsa_key))).actor == "jwt:alice"

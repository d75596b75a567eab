"""Public keys for JWT signatures: loading PEM files and JWK Sets, and which key fits which
algorithm. Keys are ``cryptography`` objects; pyjwt does the verifying.

A key verifies only the algorithms its type fits (RSA: RS*/PS*, EC: the ES* of its curve,
Ed25519/Ed448: EdDSA), so a token cannot make an RSA key serve as an HMAC secret. JWK Set
members that are symmetric (``oct``), private, for encryption, or RSA under 2048 bits are
skipped: a JWK Set only ever supplies public verification keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt import PyJWK, PyJWTError

from caxton.errors import ConfigError

log = structlog.get_logger("caxton.security")

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | \
    ed448.Ed448PublicKey
MIN_RSA_BITS = 2048
MAX_JWKS_KEYS = 100  # more members than any provider publishes; the rest are ignored
_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}


def fits(alg: str, key: PublicKey) -> bool:
    """Whether ``key`` can verify signatures of algorithm ``alg``."""
    if alg[:2] in ("RS", "PS"):
        return isinstance(key, rsa.RSAPublicKey)
    if alg in _CURVES:
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, _CURVES[alg])
    if alg == "EdDSA":
        return isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
    return False


def algorithms_for(key: PublicKey) -> tuple[str, ...]:
    """The algorithms a key verifies when none are configured."""
    if isinstance(key, rsa.RSAPublicKey):
        return ("RS256", "PS256")
    if isinstance(key, ec.EllipticCurvePublicKey):
        return tuple(alg for alg, curve in _CURVES.items() if isinstance(key.curve, curve))
    return ("EdDSA",)


def load_public_key_file(path: Path) -> PublicKey:
    """A PEM public key or X.509 certificate (whose public key counts) from ``path``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"JWT: cannot read the public key file {path}: {exc.strerror}") from None
    if b"PRIVATE KEY-----" in data:
        raise ConfigError(f"JWT: {path} holds a private key; give the public key (or a "
                          "certificate) only")
    key: object
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            key = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ConfigError(f"JWT: {path} is not a PEM public key or certificate: {exc}") from None
    if not isinstance(key, PublicKey):
        raise ConfigError(f"JWT: {path}: a {type(key).__name__} is not an RSA, EC or EdDSA key")
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise ConfigError(f"JWT: {path}: an RSA key of {key.key_size} bits is too weak (at least "
                          f"{MIN_RSA_BITS})")
    if isinstance(key, ec.EllipticCurvePublicKey) and not algorithms_for(key):
        raise ConfigError(f"JWT: {path}: the curve {key.curve.name} has no JWT algorithm (use "
                          "P-256, P-384 or P-521)")
    return key


@dataclass(frozen=True, slots=True)
class Jwk:
    kid: str | None
    key: PublicKey
    alg: str | None  # the algorithm the JWK declares, if it declares one: only that one


class KeyIndex:
    """The usable members of one JWK Set, by key id."""

    def __init__(self, keys: Iterable[Jwk]) -> None:
        self.keys = tuple(keys)
        self._kids = frozenset(k.kid for k in self.keys if k.kid is not None)

    @classmethod
    def from_jwks(cls, document: object, origin: str) -> KeyIndex:
        """Parse a JWK Set document (``{"keys": [...]}``); ``ValueError`` says what is wrong."""
        if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JWK Set (a JSON object with a 'keys' list)")
        keys = [key for member in document["keys"][:MAX_JWKS_KEYS]
                if (key := _public_jwk(member, origin)) is not None]
        if not keys:
            raise ValueError("the JWK Set has no usable public signing key")
        return cls(keys)

    def knows(self, kid: str) -> bool:
        return kid in self._kids

    def candidates(self, kid: str | None, alg: str) -> list[PublicKey]:
        """Keys that may have signed a token with this ``kid`` (any, if it names none) and
        ``alg``."""
        return [k.key for k in self.keys
                if (kid is None or k.kid == kid) and (k.alg is None or k.alg == alg)
                and fits(alg, k.key)]


def _public_jwk(member: Any, origin: str) -> Jwk | None:
    if not isinstance(member, dict):
        return None
    kid, alg = member.get("kid"), member.get("alg")
    why = ""
    if member.get("kty") == "oct":
        why = "a symmetric key (HMAC verifies with the configured secret only)"
    elif "d" in member:
        why = "a private key (publish public keys only)"
    elif member.get("use", "sig") != "sig":
        why = "not a signing key"
    elif (kid is not None and not isinstance(kid, str)) or (alg is not None
                                                            and not isinstance(alg, str)):
        why = "its kid or alg is not a string"
    if not why:
        try:
            key = PyJWK(member).key
        except PyJWTError as exc:
            why = f"unusable ({exc})"
        else:
            if not isinstance(key, PublicKey):
                why = "not a public key"
            elif isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
                why = f"an RSA key of {key.key_size} bits"
            elif alg is not None and not fits(alg, key):
                why = f"it declares alg {alg!r}, which its key type cannot verify"
            else:
                return Jwk(kid, key, alg)
    log.warning("JWK skipped", origin=origin, kid=str(kid)[:64], reason=why)
    return None

"""What the JWT verifier trusts: its key sources, the claims it checks and reads (pure, no IO).

Kept apart from the verifier so the server config can build and check it without importing
pyjwt and cryptography.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from caxton.errors import ConfigError

# HMAC algorithms verify with the shared secret only; the others with public keys only. Keeping
# the two apart is what defeats key confusion (an HS256 token "signed" with a public key).
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
PUBLIC_KEY_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                                   "ES256", "ES384", "ES512", "EdDSA"})
SUPPORTED_ALGORITHMS = HMAC_ALGORITHMS | PUBLIC_KEY_ALGORITHMS
# What a JWKS may need when no algorithms are configured (each key still verifies only the
# algorithms its type fits, and the one it declares, if it declares one).
JWKS_ALGORITHMS = ("RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA")
MIN_SECRET_BYTES = 32  # RFC 7518 3.2: an HMAC key at least as long as the hash
_HMAC_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}


@dataclass(frozen=True)
class JwtSettings:
    """Where the keys come from and what a token must carry.

    At least one key source: ``hs256_secret`` (HMAC), ``public_key_files`` (PEM public keys or
    certificates: RSA, EC, Ed25519), ``jwks_file`` (a JWK Set on disk, re-read when it changes)
    or ``jwks_url`` (an OIDC provider's JWK Set, fetched and cached).
    """

    hs256_secret: bytes | None = field(default=None, repr=False)
    public_key_files: tuple[Path, ...] = ()
    jwks_file: Path | None = None
    jwks_url: str | None = None
    issuer: str | None = None  # the "iss" a token must name (required with jwks_url)
    audience: str | None = None  # a value its "aud" must hold (required with jwks_url)
    leeway_s: float = 30.0  # clock skew allowed on exp, nbf and iat
    # The "alg" values accepted; empty: those the configured keys can verify.
    algorithms: tuple[str, ...] = ()
    # The claim naming the role: a string, or a list of which the highest known role counts.
    role_claim: str = "caxton_role"
    # The claim listing the agent-name patterns the grant covers; absent: every agent.
    agents_claim: str = "caxton_agents"
    jwks_cache_s: float = 300.0  # a fetched JWK Set is trusted this long, then refreshed
    jwks_timeout_s: float = 5.0  # one fetch of the JWKS URL gives up after this long
    # At most one fetch of the JWKS URL per this long, whatever unknown key ids tokens name.
    jwks_refetch_interval_s: float = 30.0
    # Verified tokens remembered (by hash) for up to a minute, to skip the signature check.
    token_cache_size: int = 4096

    def __post_init__(self) -> None:
        if (self.hs256_secret is None and not self.public_key_files and self.jwks_file is None
                and not self.jwks_url):
            raise ConfigError("JWT: no key source (an HS256 secret, public key files, a JWKS "
                              "file or a JWKS URL)")
        self._check_secret()
        self._check_algorithms()
        if self.jwks_url is not None:
            parts = urlsplit(self.jwks_url)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                raise ConfigError(f"JWT: the JWKS URL must be an http:// or https:// URL, not "
                                  f"{self.jwks_url!r}")
            # A provider signs tokens for every application it serves: without both checks a
            # token it issued for another application (or tenant) would be accepted here.
            if not self.issuer or not self.audience:
                raise ConfigError("JWT: a JWKS URL needs the issuer and the audience a token "
                                  "must name")
        if not 0 <= self.leeway_s <= 600:
            raise ConfigError(f"JWT: leeway must be from 0 to 600 seconds, not {self.leeway_s}")
        for name, value, most in (("JWKS cache time", self.jwks_cache_s, 86400.0),
                                  ("JWKS timeout", self.jwks_timeout_s, 60.0),
                                  ("JWKS refetch interval", self.jwks_refetch_interval_s, 3600.0)):
            if not 0 < value <= most:
                raise ConfigError(f"JWT: the {name} must be more than 0 and at most {most:g} "
                                  f"seconds, not {value}")
        if not self.role_claim or not self.agents_claim:
            raise ConfigError("JWT: the role and agents claim names cannot be empty")
        if not 0 <= self.token_cache_size <= 1_000_000:
            raise ConfigError("JWT: the token cache size must be from 0 to 1000000")

    def _check_secret(self) -> None:
        secret = self.hs256_secret
        if secret is None:
            return
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigError(f"JWT: the HS256 secret must be at least {MIN_SECRET_BYTES} bytes, "
                              f"not {len(secret)}")
        if secret.lstrip().startswith((b"-----BEGIN", b"ssh-", b"ecdsa-")):
            raise ConfigError("JWT: the HS256 secret looks like a key or certificate; give a "
                              "random secret (public keys go in the public key files)")

    def _check_algorithms(self) -> None:
        for alg in self.algorithms:
            if alg.lower() == "none":
                raise ConfigError("JWT: the algorithm 'none' (unsigned tokens) cannot be allowed")
            if alg not in SUPPORTED_ALGORITHMS:
                raise ConfigError(f"JWT: unknown algorithm {alg!r} (supported: "
                                  f"{', '.join(sorted(SUPPORTED_ALGORITHMS))})")
        chosen = set(self.algorithms)
        hmac = chosen & HMAC_ALGORITHMS
        if hmac and self.hs256_secret is not None:
            strongest = max(hmac, key=_HMAC_KEY_BYTES.__getitem__)
            need = _HMAC_KEY_BYTES[strongest]
            if len(self.hs256_secret) < need:
                raise ConfigError(f"JWT: {strongest} needs a secret of at least {need} bytes")
        if hmac and self.hs256_secret is None:
            raise ConfigError("JWT: an HS algorithm is allowed but no HS256 secret is configured"
                              " (HMAC never verifies with a public key)")
        if chosen and self.hs256_secret is not None and not chosen & HMAC_ALGORITHMS:
            raise ConfigError("JWT: an HS256 secret is configured but no HS algorithm is allowed")
        if chosen & PUBLIC_KEY_ALGORITHMS and not self.has_public_keys:
            raise ConfigError("JWT: a public-key algorithm is allowed but no public key, JWKS "
                              "file or JWKS URL is configured")
        if chosen and self.has_public_keys and not chosen & PUBLIC_KEY_ALGORITHMS:
            raise ConfigError("JWT: public keys are configured but no public-key algorithm is "
                              "allowed")

    @property
    def has_public_keys(self) -> bool:
        return bool(self.public_key_files) or self.jwks_file is not None or bool(self.jwks_url)

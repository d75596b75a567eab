"""Bearer JWTs (HS256 secrets, PEM public keys, JWK Sets, OIDC providers) to a ``Principal``.

pyjwt checks the signature and the registered claims (exp, nbf, iat, iss, aud, crit); this
module picks the keys a token may be checked with and reads Caxton's claims:

* ``sub`` (required) names the actor, ``jwt:<sub>``; ``jti``, if any, is the principal's key id.
* The role claim (``caxton_role``) holds a role name, or a list of names of which the highest
  known one counts (roles nest: viewer < developer < operator < admin, so that is the union of
  the grants). Unknown names in a list are ignored; none known is refused.
* The agents claim (``caxton_agents``) lists agent-name patterns; absent, every agent.
* Claim names with dots (``realm_access.roles``) reach into nested objects when no claim has
  that exact name.

The token's ``alg`` decides the key family: HMAC algorithms verify with the configured secret
only, the others with public keys of the fitting type only, and only allowed algorithms (never
``none``) are tried. Keys named in the token's header (``jwk``, ``jku``, ``x5u``) are ignored.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Future, wait
from typing import Any

import jwt

from caxton.errors import AuthenticationError
from caxton.security.jwks import JwksFile, JwksUrl
from caxton.security.jwt_keys import (
    PublicKey,
    algorithms_for,
    fits,
    load_public_key_file,
)
from caxton.security.jwt_settings import (
    HMAC_ALGORITHMS,
    JWKS_ALGORITHMS,
    JwtSettings,
)
from caxton.security.permissions import Role
from caxton.security.principal import Principal

__all__ = ["JwtSettings", "JwtVerifier"]

MAX_TOKEN_CHARS = 16 * 1024
MAX_AGENT_PATTERNS = 256
MAX_NAME_CHARS = 256  # sub, jti, kid, an agent pattern
MAX_KEYS_TRIED = 8  # a token is tried against at most this many keys (one forged token: 8 checks)
TOKEN_CACHE_S = 60.0
_JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_RANK = {role: rank for rank, role in enumerate(Role)}  # declared from least to most
_ROLE_NAMES = frozenset(role.value for role in Role)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _FetchPending(Exception):  # noqa: N818 - a control-flow signal, not an error
    def __init__(self, fetch: Future[None]) -> None:
        super().__init__("a JWKS fetch is under way")
        self.fetch = fetch


class JwtVerifier:
    """Verifies bearer JWTs against ``settings``. Thread-safe; one per server. Reads the key
    files at once (``ConfigError`` if one cannot be used) and, with a JWKS URL, starts fetching
    the provider's keys in the background."""

    def __init__(self, settings: JwtSettings, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock  # monotonic: JWKS cache, refetch interval, token cache
        self._secret = settings.hs256_secret
        self._static: tuple[PublicKey, ...] = tuple(
            load_public_key_file(path) for path in settings.public_key_files)
        self._file = None if settings.jwks_file is None else JwksFile(settings.jwks_file,
                                                                      clock=clock)
        self._url = None if not settings.jwks_url else JwksUrl(
            settings.jwks_url, cache_s=settings.jwks_cache_s, timeout_s=settings.jwks_timeout_s,
            refetch_interval_s=settings.jwks_refetch_interval_s, clock=clock)
        self.algorithms = frozenset(settings.algorithms or self._default_algorithms())
        self._cache: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._cache_lock = threading.Lock()
        if self._url is not None:
            self._url.plan(None)  # fetch the provider's keys now, not on the first request

    def _default_algorithms(self) -> set[str]:
        algs = set()
        if self._secret is not None:
            algs.add("HS256")
        for key in self._static:
            algs.update(algorithms_for(key))
        if self._file is not None or self._url is not None:
            algs.update(JWKS_ALGORITHMS)
        return algs

    @staticmethod
    def accepts(token: str) -> bool:
        """Whether a bearer credential is shaped like a JWT (three base64url segments), so API
        keys go elsewhere. Cheap; says nothing about validity."""
        return len(token) <= MAX_TOKEN_CHARS and _JWT_SHAPE.fullmatch(token) is not None

    def verify(self, token: str) -> Principal:
        """The principal a valid token proves; ``AuthenticationError`` saying why not.
        May block up to the JWKS timeout while the provider's keys are fetched: from asyncio,
        use ``verify_async``."""
        try:
            return self._verify(token, fetched=False)
        except _FetchPending as pending:
            wait([pending.fetch], timeout=self._fetch_wait_s)
        return self._verify(token, fetched=True)

    async def verify_async(self, token: str) -> Principal:
        """``verify`` for the event loop: a key fetch runs in its own thread and is awaited;
        the checks themselves (tens of microseconds) run inline."""
        try:
            return self._verify(token, fetched=False)
        except _FetchPending as pending:
            # asyncio.wait neither raises nor cancels on its timeout: the fetch goes on.
            await asyncio.wait([asyncio.wrap_future(pending.fetch)], timeout=self._fetch_wait_s)
        return self._verify(token, fetched=True)

    @property
    def _fetch_wait_s(self) -> float:
        return (self._url.timeout_s if self._url is not None else 0.0) + 1.0

    def _verify(self, token: str, *, fetched: bool) -> Principal:
        if not isinstance(token, str) or not token:
            raise AuthenticationError("no token")
        if len(token) > MAX_TOKEN_CHARS:
            raise AuthenticationError(f"token too long (more than {MAX_TOKEN_CHARS} characters)")
        digest = hashlib.sha256(token.encode()).digest()
        cached = self._cached(digest)
        if cached is not None:
            return cached
        header = _header(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or not alg:
            raise AuthenticationError("malformed token: no algorithm (alg) in its header")
        if alg.lower() == "none":
            raise AuthenticationError("unsigned token (alg 'none') refused")
        if alg not in self.algorithms:
            raise AuthenticationError(f"token algorithm {_show(alg)} not allowed (allowed: "
                                      f"{', '.join(sorted(self.algorithms))})")
        if alg in HMAC_ALGORITHMS:
            assert self._secret is not None  # settings refuse HS algorithms without one
            claims = self._decode(token, alg, [self._secret])
        else:
            kid = header.get("kid")
            if kid is not None and (not isinstance(kid, str) or len(kid) > MAX_NAME_CHARS):
                raise AuthenticationError("malformed token: its key id (kid) is not a short "
                                          "string")
            claims = self._decode(token, alg, self._public_keys(kid, alg, fetched=fetched))
        principal = self._principal(claims)
        self._remember(digest, principal, claims)
        return principal

    def _public_keys(self, kid: str | None, alg: str, *, fetched: bool) -> list[PublicKey]:
        """The keys a token with this ``kid`` and ``alg`` may have been signed with. Raises
        ``_FetchPending`` when only a JWKS fetch under way could supply them (and ``fetched``
        is false: the caller has not waited for one yet)."""
        keys = [key for key in self._static if fits(alg, key)]
        # Whether some JWK Set has the kid (moot for a token without one, or without JWK Sets).
        known = kid is None or (self._file is None and self._url is None)
        if self._file is not None:
            index = self._file.index()
            if kid is not None and not index.knows(kid):
                index = self._file.reload_for_unknown_kid()
            keys += index.candidates(kid, alg)
            known = known or index.knows(kid or "")
        if self._url is not None:
            if fetched:
                url_keys = self._url.keys()
            else:
                url_keys, fetch = self._url.plan(None if known else kid)
                # Wait for the fetch only if the keys may be in it: the kid is in no set at
                # hand, or the token names no kid and the provider's keys were never fetched.
                in_url = kid is not None and url_keys is not None and url_keys.knows(kid)
                lacking = (url_keys is None) if kid is None else not (known or in_url)
                if fetch is not None and lacking:
                    raise _FetchPending(fetch)
            if url_keys is not None:
                keys += url_keys.candidates(kid, alg)
                known = known or url_keys.knows(kid or "")
        if keys:
            return keys[:MAX_KEYS_TRIED]
        trouble = self._url.trouble() if self._url is not None else ""
        detail = f" ({trouble})" if trouble else ""
        if not known:
            raise AuthenticationError(f"unknown key id {_show(kid or '')}{detail}")
        raise AuthenticationError(f"no configured key verifies {alg}{detail}")

    def _decode(self, token: str, alg: str, keys: list[Any]) -> dict[str, Any]:
        s = self.settings
        for key in keys:
            try:
                return jwt.decode(token, key, algorithms=[alg], audience=s.audience,
                                  issuer=s.issuer, leeway=s.leeway_s,
                                  options={"require": ["exp", "sub"], "strict_aud": False})
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as exc:
                raise AuthenticationError(_reason(exc)) from None
            except (TypeError, ValueError, OverflowError) as exc:  # odd claims or keys
                raise AuthenticationError(f"malformed token: {exc}") from None
        raise AuthenticationError("bad signature: the token was not signed by a trusted key")

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        sub, jti = claims["sub"], claims.get("jti", "")
        for name, value in (("sub", sub), ("jti", jti)):
            if not isinstance(value, str) or len(value) > MAX_NAME_CHARS or (
                    _CONTROL.search(value)):
                raise AuthenticationError(f"malformed token: the {name} claim must be a string "
                                          f"of at most {MAX_NAME_CHARS} printable characters")
        if not sub:
            raise AuthenticationError("malformed token: the sub claim is empty")
        return Principal(actor=f"jwt:{sub}", role=self._role(claims), agents=self._agents(claims),
                         method="jwt", key_id=jti)

    def _role(self, claims: Mapping[str, Any]) -> Role:
        name = self.settings.role_claim
        value = _claim(claims, name)
        if value is None:
            raise AuthenticationError(f"token has no role claim {name!r}")
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise AuthenticationError(f"the role claim {name!r} must be a role name or a list "
                                      "of them")
        known = [Role(n) for n in names if n in _ROLE_NAMES]
        if not known:
            shown = ", ".join(_show(n) for n in names[:4]) or "none"
            raise AuthenticationError(f"unknown role {shown} in the claim {name!r} (known: "
                                      f"{', '.join(Role)})")
        return max(known, key=_RANK.__getitem__)

    def _agents(self, claims: Mapping[str, Any]) -> tuple[str, ...]:
        name = self.settings.agents_claim
        value = _claim(claims, name)
        if value is None:
            return ("*",)
        patterns = [value] if isinstance(value, str) else value
        if (not isinstance(patterns, list) or len(patterns) > MAX_AGENT_PATTERNS
                or not all(isinstance(p, str) and 0 < len(p) <= MAX_NAME_CHARS
                           for p in patterns)):
            raise AuthenticationError(f"the agents claim {name!r} must be a list of at most "
                                      f"{MAX_AGENT_PATTERNS} agent-name patterns")
        return tuple(patterns)

    def _cached(self, digest: bytes) -> Principal | None:
        if not self.settings.token_cache_size:
            return None
        with self._cache_lock:
            entry = self._cache.get(digest)
            if entry is None:
                return None
            if entry[1] <= self._clock():
                del self._cache[digest]
                return None
            self._cache.move_to_end(digest)
            return entry[0]

    def _remember(self, digest: bytes, principal: Principal, claims: Mapping[str, Any]) -> None:
        if not self.settings.token_cache_size:
            return
        # Until the token expires (no leeway), and a minute at most: a key removed from a
        # JWK Set stops tokens it signed within a minute.
        exp, now = claims["exp"], time.time()  # exp may be an int too large for a float
        remaining = TOKEN_CACHE_S if exp >= now + TOKEN_CACHE_S else float(exp) - now
        if remaining <= 0:
            return
        with self._cache_lock:
            self._cache[digest] = (principal, self._clock() + remaining)
            self._cache.move_to_end(digest)
            while len(self._cache) > self.settings.token_cache_size:
                self._cache.popitem(last=False)


def _header(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"malformed token: {exc}") from None
    return header


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    """The claim ``name``, or, when there is none and the name has dots, the value at that path
    of nested objects (``realm_access.roles``)."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _reason(exc: jwt.PyJWTError) -> str:
    """Why pyjwt refused a token, in words a client can act on."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "token expired"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "token not yet valid" + (" (issued in the future)" if "iat" in str(exc)
                                        else " (nbf)")
    if isinstance(exc, jwt.InvalidAudienceError):
        return "wrong audience: the token is not meant for this server"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "wrong issuer"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"token lacks the {exc.claim!r} claim"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return f"token algorithm refused: {exc}"
    return f"malformed token: {exc}"


def _show(value: str) -> str:
    """An attacker-chosen string, safe and short for a message."""
    return repr(value[:64] + ("..." if len(value) > 64 else ""))

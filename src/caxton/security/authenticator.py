"""From a request's credentials to a Principal: an API key, a JWT (when a verifier is
configured) or a verified client certificate, in that order."""

from __future__ import annotations

from typing import Protocol

from caxton.errors import AuthenticationError
from caxton.security import api_keys
from caxton.security.key_book import KeyBook
from caxton.security.permissions import Role
from caxton.security.principal import OPEN_PRINCIPAL, ClientCertificate, Principal


class BearerVerifier(Protocol):
    """Tokens other than API keys: JWTs (caxton.security.jwt_tokens)."""

    def accepts(self, token: str) -> bool: ...

    async def verify_async(self, token: str) -> Principal: ...


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (None without one)."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def certificate_principal(cert: ClientCertificate) -> Principal:
    """A verified client certificate: its CN is the actor, its OU the role (as
    ``caxton security issue-cert --client NAME --role ROLE`` writes them)."""
    roles = [ou for ou in cert.organizational_units if ou in Role.__members__]
    if not roles:
        raise AuthenticationError(
            f"client certificate '{cert.common_name}' names no role (OU admin, operator, "
            "developer or viewer)")
    return Principal(f"cert:{cert.common_name}", Role(roles[0]), method="certificate")


class Authenticator:
    def __init__(self, keys: KeyBook, *, enabled: bool = True,
                 tokens: BearerVerifier | None = None) -> None:
        self.keys = keys
        self.enabled = enabled
        self._tokens = tokens

    async def authenticate(self, authorization: str | None,
                           certificate: ClientCertificate | None = None) -> Principal:
        if not self.enabled:
            return OPEN_PRINCIPAL
        token = bearer(authorization)
        if token is not None:
            if api_keys.looks_like_key(token):
                return self.keys.authenticate(token)
            if self._tokens is not None and self._tokens.accepts(token):
                return await self._tokens.verify_async(token)
            raise AuthenticationError("the bearer token is neither an API key nor a JWT this "
                                      "server accepts")
        if certificate is not None:
            return certificate_principal(certificate)
        raise AuthenticationError("authentication required: send 'Authorization: Bearer "
                                  "<token>' (caxton tokens create makes one)")

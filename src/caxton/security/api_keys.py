"""API keys: ``cxk_<id>_<secret>``. The id finds the record, the secret proves it; only a
SHA-256 of the secret is stored.

A fast hash is the right one here: the secret is 256 random bits, not a password, so there is
nothing for a slow KDF to protect against, and every request checks one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "cxk_"
_SHAPE = re.compile(r"cxk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})")
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True, slots=True)
class NewKey:
    id: str
    secret: str
    secret_hash: str

    @property
    def token(self) -> str:
        return f"{PREFIX}{self.id}_{self.secret}"


def new_key() -> NewKey:
    key_id = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))
    secret = secrets.token_urlsafe(32)
    return NewKey(key_id, secret, hash_secret(secret))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse(token: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a well-formed key, else None."""
    found = _SHAPE.fullmatch(token)
    return (found.group(1), found.group(2)) if found else None


def matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX)


def parse_duration(text: str) -> float:
    """``30d``, ``12h``, ``90m``, ``1w``, ``45s`` (or combined: ``1d12h``) in seconds."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not parts or _DURATION.sub("", compact).strip():
        raise ValueError(f"{text!r} is not a duration such as 30d, 12h, 90m or 1w")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r}: a duration must be positive")
    return float(seconds)

"""The platform address book's entries: where another FIPA platform's agents are reached.

An agent on another platform is named ``NAME@PLATFORM`` (``jresp@JadePlat``). A message can
carry its transport addresses (``AclMessage.addresses``); the address book says once, for every
agent of a platform, which URLs its MTP listens on, so ``jresp@JadePlat`` needs no addresses
from whoever sends to it. Platform names compare case-insensitively, as the platform part of a
FIPA name does in routing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from caxton.errors import InvalidMessageError

CONFIG, API = "config", "api"  # where an entry comes from
MAX_URLS = 16
_NAME = re.compile(r"[A-Za-z0-9_.:/+~-]{1,128}")  # as the config's platform_name
_MAX_URL = 256


@dataclass(frozen=True, slots=True)
class PlatformEntry:
    name: str
    urls: tuple[str, ...]
    source: str = API

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "urls": list(self.urls), "source": self.source}


def parse_name(value: Any, field: str = "name") -> str:
    if not isinstance(value, str) or _NAME.fullmatch(value) is None:
        raise InvalidMessageError(field, f"{value!r} is not a platform name (1 to 128 letters, "
                                  "digits or '_.:/+~-')")
    return value


def parse_urls(value: Any, field: str = "urls") -> tuple[str, ...]:
    """1 to ``MAX_URLS`` distinct http:// or https:// URLs."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise InvalidMessageError(field, "must be a list of one or more http:// or https:// URLs")
    if len(value) > MAX_URLS:
        raise InvalidMessageError(field, f"at most {MAX_URLS} URLs")
    for url in value:
        if (not isinstance(url, str) or not url.lower().startswith(("http://", "https://"))
                or len(url) > _MAX_URL or not url.isprintable() or " " in url):
            raise InvalidMessageError(field, f"{url!r} is not an http:// or https:// URL of at "
                                      f"most {_MAX_URL} characters")
    return tuple(dict.fromkeys(value))


def url_key(url: str) -> tuple[str, str, int, str] | None:
    """What identifies an MTP URL when URLs are compared: the scheme and host in lower case
    (without a trailing dot), the port (the scheme's default when none is given) and the path
    with its query; None when ``url`` is not an http:// or https:// URL with a host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not host:
        return None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def platform_of(agent: str) -> str | None:
    """The platform part of a FIPA name (after the last ``@``), or None for a plain name."""
    local, at, platform = agent.rpartition("@")
    return platform if at and local and platform else None


def parse_book(text: str) -> tuple[PlatformEntry, ...]:
    """The config's ``platforms`` setting: ``NAME=URL[ URL...]`` entries separated by commas
    (``JadePlat=http://127.0.0.1:7778/acc, other=https://a/acc https://b/acc``)."""
    entries: dict[str, PlatformEntry] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, eq, urls = item.partition("=")
        if not eq:
            raise InvalidMessageError("platforms", f"{item.strip()!r} is not NAME=URL")
        entry = PlatformEntry(parse_name(name.strip(), "platforms"),
                              parse_urls(urls.split(), "platforms"), CONFIG)
        if entry.name.lower() in entries:
            raise InvalidMessageError("platforms", f"platform {entry.name!r} is listed twice")
        entries[entry.name.lower()] = entry
    return tuple(entries.values())

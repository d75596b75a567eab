"""Identifiers: agent names, message ids, conversation ids, client inboxes."""

from __future__ import annotations

import os
import re

from caxton.errors import InvalidAgentNameError

_AGENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
# Names the platform keeps for itself (FIPA's AMS and DF, and API client inboxes).
RESERVED_NAMES = frozenset({"ams", "df", "caxton"})
CLIENT_PREFIX = "_client-"
PLATFORM_AGENT = "ams"

AGENT_NAME_RULE = (
    "a letter followed by up to 63 letters, digits, '_', '.' or '-'"
)


def validate_agent_name(name: str) -> str:
    """Return ``name`` if it is a legal agent name, else raise InvalidAgentNameError."""
    if not isinstance(name, str) or _AGENT_NAME.fullmatch(name) is None:
        raise InvalidAgentNameError(f"invalid agent name {name!r}: must be {AGENT_NAME_RULE}")
    if name.lower() in RESERVED_NAMES:
        raise InvalidAgentNameError(f"invalid agent name {name!r}: reserved for the platform")
    return name


def is_agent_name(name: str) -> bool:
    return _AGENT_NAME.fullmatch(name) is not None


def new_id() -> str:
    """A random 128-bit id as 32 hex digits (message and conversation ids)."""
    return os.urandom(16).hex()


def new_client_inbox() -> str:
    """An address for an API client that waits for replies; never a legal agent name."""
    return CLIENT_PREFIX + os.urandom(6).hex()


def is_client_inbox(name: str) -> bool:
    return name.startswith(CLIENT_PREFIX)


def is_platform_agent(name: str) -> bool:
    """Whether ``name`` is a platform's AMS: ours (``ams``) or another platform's (``ams@jade``,
    as FIPA gives every platform one), whose reports about a message (an undeliverable receiver,
    a broken protocol) belong to that message's conversation without being a step of it."""
    local, at, _ = name.rpartition("@")
    return name == PLATFORM_AGENT or (bool(at) and local.lower() == PLATFORM_AGENT)

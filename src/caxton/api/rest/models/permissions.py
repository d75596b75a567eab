"""An agent's permissions, declared at deploy and shown with the agent (docs/agent-permissions.md).

The domain (``caxton.domain.agent_permissions``) checks the rest: the receiver patterns'
forms, printable entries.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from caxton.domain.agent_permissions import MAX_BURST, MAX_ITEMS, MAX_RATE, MAX_RECEIVERS, MAX_TEXT

HostFunction = Literal["send", "reply", "log", "now", "random", "state_get", "state_put",
                       "state_delete", "state_list", "state", "*"]
Entry = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT)]
Entries = Annotated[list[Entry], msgspec.Meta(max_length=MAX_ITEMS)]


class RateLimitDeclared(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A token bucket over the messages the agent sends."""

    messages_per_s: Annotated[float, msgspec.Meta(
        gt=0, le=MAX_RATE, description="Tokens a second: the sustained rate.")]
    burst: Annotated[int, msgspec.Meta(
        ge=1, le=MAX_BURST, description="Most tokens saved up (default: the rate, rounded "
                                        "up).")] | None = None


class PermissionsDeclared(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Least privilege: the agent may do only what is listed (a missing list allows nothing)."""

    host_functions: Annotated[list[HostFunction], msgspec.Meta(
        max_length=MAX_ITEMS, description="ABI v1 host functions it may import or call; "
                                          "'state': the four state functions, '*': all.",
        examples=[["send", "reply", "log", "state"]])] | None = None
    messaging: Annotated[Entries, msgspec.Meta(
        description="Receivers it may address: NAME, PREFIX*, *, service:TYPE, "
                    "service:TYPE/all, service:*, NAME@PLATFORM, *@PLATFORM, *@*.",
        examples=[["echo", "worker-*", "service:translate"]])] | None = None
    rate: RateLimitDeclared | None = None
    max_receivers: Annotated[int, msgspec.Meta(
        ge=1, le=MAX_RECEIVERS, description="Most receivers one message may name.")] | None \
        = None
    tools: Annotated[Entries, msgspec.Meta(
        description="MCP tools it may call (stored and shown; enforced once tools exist).")
        ] | None = None


class RateLimit(msgspec.Struct):
    messages_per_s: float
    burst: int


class Permissions(msgspec.Struct):
    """What the agent may do (host functions expanded, in the ABI's order)."""

    host_functions: list[str]
    messaging: list[str]
    rate: RateLimit | None
    max_receivers: int | None
    tools: list[str]

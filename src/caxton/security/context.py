"""The caller of the API call being served, for checks that need the request's content.

The REST and gRPC guards authenticate the caller and set it here for the call; the service
layer asks ``require`` where the target is only known from the body (the agent a deploy names,
the sender a message claims). In-process use (no guard) has no caller and is not checked.
"""

from __future__ import annotations

from contextvars import ContextVar

from caxton.errors import PermissionDeniedError
from caxton.security.permissions import Permission
from caxton.security.principal import Principal

CALLER: ContextVar[Principal | None] = ContextVar("caxton_caller", default=None)


def caller() -> Principal | None:
    return CALLER.get()


def require(permission: Permission, agent: str | None = None) -> None:
    """Raise PermissionDeniedError unless the current caller (if any) may do this."""
    principal = CALLER.get()
    if principal is None or principal.allows(permission, agent):
        return
    if agent is not None and permission in principal.permissions:
        raise PermissionDeniedError(
            f"{principal.actor} ({principal.role}) may not use agent '{agent}': its grant "
            f"covers {', '.join(principal.agents)}")
    raise PermissionDeniedError(
        f"{principal.actor} ({principal.role}) lacks the permission {permission.value}")


PLATFORM_AGENTS = frozenset({"df", "ams"})  # answer for the platform: nobody speaks for them


def require_sender(sender: str) -> None:
    """A message an API caller sends names ``sender``: refuse a name the caller may not use.

    Anonymous client inboxes (``_client-...``) are the caller's own; an agent's name needs
    ``messages.send`` for that agent; the platform agents cannot be named by anyone.
    """
    principal = CALLER.get()
    if principal is None:
        return
    local = sender.partition("@")[0]
    if local.lower() in PLATFORM_AGENTS:
        raise PermissionDeniedError(
            f"no caller may send as the platform agent '{sender}'")
    if not (principal.allows(Permission.messages_send, sender)
            or principal.allows(Permission.messages_send, local)):
        raise PermissionDeniedError(
            f"{principal.actor} ({principal.role}) may not send as '{sender}': its grant "
            f"covers {', '.join(principal.agents)}")

"""FIPA agent names (``name@platform``) of this platform's own agents, for the router.

Other platforms address our agents by globally unique name: ``echo@caxton`` when the platform is
named ``caxton`` (``platform_name`` in the config). The router asks each ``Resolver`` about a
receiver that names no local agent; this one answers for names on our platform whose local part
is an agent that exists, the AMS or an API client's inbox (waiting or not), so a message to
``nobody@caxton`` stays unresolved and is refused like any unknown receiver, naming the name the
sender used.
"""

from __future__ import annotations

from collections.abc import Callable

from caxton.codecs.mtp import local_name
from caxton.domain.ids import PLATFORM_AGENT, is_client_inbox


def guid(name: str, platform: str) -> str:
    """The globally unique FIPA name of local agent ``name`` (names with ``@`` are kept)."""
    return name if "@" in name else f"{name}@{platform}"


class PlatformResolver:
    """Maps ``name@<platform>`` (platform compared case-insensitively) to local agent ``name``."""

    def __init__(self, platform: str, exists: Callable[[str], bool]) -> None:
        self.platform = platform
        self._platforms = (platform,)
        self._exists = exists

    def claims(self, receiver: str) -> bool:
        return self.resolve(receiver) is not None

    def unresolved(self, receiver: str) -> str | None:
        return None  # the router's "no agent named ..." says it

    def resolve(self, receiver: str) -> tuple[str, ...] | None:
        if "@" not in receiver:
            return None  # a plain name is local already, or unknown: not ours to say
        local = local_name(receiver, self._platforms)
        if local is None or "@" in local:
            return None
        if local == PLATFORM_AGENT or is_client_inbox(local) or self._exists(local):
            # An API client's inbox is ours even once the client stopped waiting: a late reply
            # is filed under it (the router keeps it in the conversation log) like a local one.
            return (local,)
        return None

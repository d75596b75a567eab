"""FIPA agent identifiers (SC00023): a name plus the transport addresses and resolvers to reach it.

Both the string representation of ACL and the XML envelope write agent identifiers, so the value
type lives here, apart from either syntax. Caxton itself routes by name; the addresses matter only
for agents on other platforms (see ``AclMessage.addresses``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AgentIdentifier:
    """``(agent-identifier :name n :addresses (sequence url...) :resolvers (sequence aid...))``."""

    name: str
    addresses: tuple[str, ...] = ()
    resolvers: tuple[AgentIdentifier, ...] = ()

"""FIPA interaction protocols (SC00026-SC00036, XC00031/32) as pure state machines.

``protocol_for(message.protocol)`` finds the definition a conversation follows (None for a
protocol Caxton does not know, whose conversations are then not checked);
``ConversationState.start(protocol).advance(message, from_initiator=True)`` follows it, raising
``ProtocolViolation`` with what was expected. ``expired``/``overdue``/``expire`` handle reply-by
deadlines. Nothing here does IO: the conversation manager feeds messages in and persists
``ConversationState.to_dict()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from caxton.domain.acl import AclMessage
from caxton.domain.protocols.auctions import DUTCH_AUCTION, ENGLISH_AUCTION
from caxton.domain.protocols.base import Kind, Party, Protocol, Role
from caxton.domain.protocols.brokering import BROKERING, RECRUITING
from caxton.domain.protocols.contract_net import CONTRACT_NET, ITERATED_CONTRACT_NET
from caxton.domain.protocols.state import (
    ConversationState,
    expire,
    expired,
    next_deadline,
    overdue,
    utc_key,
)
from caxton.domain.protocols.two_party import (
    PROPOSE,
    QUERY,
    REQUEST,
    REQUEST_WHEN,
    SUBSCRIBE,
)

PROTOCOLS: Mapping[str, Protocol] = MappingProxyType({p.name: p for p in (
    REQUEST, QUERY, REQUEST_WHEN, CONTRACT_NET, ITERATED_CONTRACT_NET, SUBSCRIBE, PROPOSE,
    BROKERING, RECRUITING, ENGLISH_AUCTION, DUTCH_AUCTION,
)})
# The spec titles name the auctions the other way round; some platforms follow the titles.
_ALIASES = {"fipa-english-auction": "fipa-auction-english",
            "fipa-dutch-auction": "fipa-auction-dutch"}


def protocol_for(name: str | None) -> Protocol | None:
    """The protocol a message's ``protocol`` field names (case-insensitive), or None."""
    if not name:
        return None
    key = name.strip().lower().replace("_", "-")
    return PROTOCOLS.get(_ALIASES.get(key, key))


def begin(message: AclMessage) -> ConversationState | None:
    """The state after a conversation's first message, or None if its protocol is unknown."""
    protocol = protocol_for(message.protocol)
    if protocol is None:
        return None
    return ConversationState.start(protocol).advance(message, from_initiator=True)


__all__ = [
    "PROTOCOLS", "ConversationState", "Kind", "Party", "Protocol", "Role", "begin", "expire",
    "expired", "next_deadline", "overdue", "protocol_for", "utc_key",
]

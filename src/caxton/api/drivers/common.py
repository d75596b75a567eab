"""What every protocol driver shares: a client inbox for one conversation, request fields.

A driver speaks for an API client: it registers a fresh client inbox (``_client-...``) in the
router, sends from that address through the service layer (so its messages are validated,
logged and traced like any client's), and reads the replies that land in the inbox.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping
from typing import Any

from caxton.codecs import fipa_sl
from caxton.domain.acl import AclMessage, Performative, parse_message
from caxton.domain.ids import is_platform_agent, new_client_inbox
from caxton.errors import InvalidMessageError
from caxton.router.local import ClientInbox, Router

MAX_WAIT_S = 300.0  # the longest deadline or wait a driver accepts
# Message fields a driver copies into every message it sends for the client.
_COPIED = ("language", "ontology")


class ConversationInbox:
    """A client address registered in the router that keeps one conversation's messages.

    Messages arrive on the routing thread and are queued on the event loop, stamped with the
    loop's clock. ``on_message`` (optional, run on the loop) sees each one first and returns
    whether it should still be queued. Close it to unregister the address.
    """

    def __init__(self, router: Router, conversation_id: str,
                 on_message: Callable[[float, AclMessage], bool] | None = None) -> None:
        self.name = new_client_inbox()
        self.conversation_id = conversation_id
        self._router = router
        self._loop = asyncio.get_running_loop()
        self._on_message = on_message
        self._queue: asyncio.Queue[tuple[float, AclMessage]] = asyncio.Queue()
        self._closed = False
        router.register(self.name, ClientInbox(self._arrive))

    def _arrive(self, msg: AclMessage) -> None:  # the routing thread
        if msg.conversation_id == self.conversation_id and not self._closed:
            self._loop.call_soon_threadsafe(self._put, msg)

    def _put(self, msg: AclMessage) -> None:
        at = self._loop.time()
        if self._on_message is None or self._on_message(at, msg):
            self._queue.put_nowait((at, msg))

    async def next(self, until: float) -> tuple[float, AclMessage] | None:
        """The next message with its arrival time, or None once the loop's clock reaches
        ``until`` without one."""
        if not self._queue.empty():
            return self._queue.get_nowait()
        remaining = until - self._loop.time()
        if remaining <= 0:
            return None
        try:
            return await asyncio.wait_for(self._queue.get(), remaining)
        except TimeoutError:
            return None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._router.unregister(self.name)

    def __enter__(self) -> ConversationInbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def check_fields(obj: Any, allowed: frozenset[str]) -> Mapping[str, Any]:
    """``obj`` as a JSON object whose keys are ``allowed`` or ``X-`` parameters."""
    if not isinstance(obj, Mapping):
        raise InvalidMessageError("request", "must be a JSON object")
    for key in obj:
        if key not in allowed and not str(key).startswith(("X-", "x-")):
            raise InvalidMessageError(str(key), "unknown field")
    return obj


def receivers(obj: Mapping[str, Any], *, single: bool = False) -> tuple[str, ...]:
    """The ``receiver`` field: a name, a comma-separated list or a list of names."""
    raw = obj.get("receiver")
    names = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InvalidMessageError("receiver", "must be an agent name or a list of agent names")
    found = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not found:
        raise InvalidMessageError("receiver", "at least one receiver is required")
    if single and len(found) != 1:
        raise InvalidMessageError("receiver", "exactly one receiver is required")
    return found


def transport_addresses(obj: Mapping[str, Any], names: tuple[str, ...]
                        ) -> dict[str, tuple[str, ...]]:
    """The ``addresses`` field: transport addresses of receivers on other platforms,
    ``{"name": ["http://host:7778/acc", ...]}``, checked as a message's are."""
    value = obj.get("addresses")
    if value is None:
        return {}
    probe = {"performative": "inform", "sender": "ams", "receiver": list(names),
             "addresses": value}
    return parse_message(probe).addresses


def platform_report(msg: AclMessage) -> tuple[str | None, str | None]:
    """``(error, party)`` of a platform's report about the conversation, else ``(None, None)``:
    ``("timeout", P)`` when P did not answer in time (Caxton's AMS), ``("undeliverable", R)``
    when R did not get a message (Caxton's AMS, or another platform's MTS-error failure)."""
    if not is_platform_agent(msg.sender) or msg.performative is not Performative.FAILURE:
        return None, None
    content = msg.content
    if isinstance(content, dict):
        error = content.get("error")
        if error == "timeout":
            return "timeout", _name(content.get("party"))
        return (str(error) if error is not None else None), _name(content.get("receiver"))
    if isinstance(content, str):
        receiver = fipa_sl.mts_error_receiver(content)
        if receiver is not None:
            return "undeliverable", receiver
    return None, None


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def seconds(obj: Mapping[str, Any], key: str, default: float, *, low: float = 0.0,
            high: float = MAX_WAIT_S, exclusive_low: bool = False) -> float:
    """A number of seconds from ``obj[key]`` (``default`` when absent or null), in range."""
    value = obj.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidMessageError(key, "must be a number of seconds")
    if value < low or (exclusive_low and value == low) or value > high:
        low_text = f"more than {low:g}" if exclusive_low else f"at least {low:g}"
        raise InvalidMessageError(key, f"must be {low_text} and at most {high:g} seconds")
    return float(value)


def extras(obj: Mapping[str, Any]) -> dict[str, str]:
    """The fields copied into every message the driver sends: language, ontology, ``X-``."""
    out: dict[str, str] = {}
    for key, value in obj.items():
        if key in _COPIED or str(key).startswith(("X-", "x-")):
            if value is None:
                continue
            if not isinstance(value, str):
                raise InvalidMessageError(str(key), "must be a string")
            out[str(key)] = value
    return out


def optional_string(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidMessageError(key, "must be a non-empty string")
    return value

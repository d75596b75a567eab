"""An agent's permissions as the host applies them to what it sends: compiled once at deploy.

``SendPolicy.screen`` looks at one message an agent sent while handling another (the *cause*)
and says why it may not go, or None. Checked in this order, so a refused message does not use
up the rate: too many receivers (``fanout``), a receiver or ``reply_to`` address the agent may
not name (``messaging``), then the token bucket (``rate``). Answering the cause's sender (or an
address in its ``reply_to``) is always allowed: whoever wrote to an agent may be answered.

A policy belongs to one agent and is used by the worker running it, one message at a time, so
its bucket needs no lock. Pure: the caller passes the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from caxton.domain.acl import AclMessage
from caxton.domain.agent_permissions import AgentPermissions
from caxton.domain.permission_patterns import Recipients

# Kinds of violation: the label of caxton_agent_permission_denials_total and the audit hook's.
MESSAGING, RATE, FANOUT, HOST_FUNCTION = "messaging", "rate", "fanout", "host_function"
KINDS = (MESSAGING, RATE, FANOUT, HOST_FUNCTION)


@dataclass(frozen=True, slots=True)
class Denial:
    """Why one message may not go."""

    kind: str  # MESSAGING, RATE or FANOUT
    reason: str
    receivers: tuple[str, ...] = ()  # the addresses at fault (messaging)

    def content(self, msg: AclMessage) -> dict[str, Any]:
        """The content of the platform's ``failure`` to the sender."""
        return {"error": "rate_limited" if self.kind == RATE else "permission_denied",
                "permission": self.kind, "reason": self.reason,
                "message_id": msg.message_id, "receiver": list(self.receivers or msg.receiver)}


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` held; starts full."""

    __slots__ = ("_burst", "_last", "_rate", "_tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self._rate, self._burst = rate, float(burst)
        self._tokens = float(burst)
        self._last: float | None = None

    def take(self, now: float) -> bool:
        """Spend a token if there is one (``now``: monotonic seconds)."""
        if self._last is not None and now > self._last:
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now if self._last is None else max(self._last, now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class SendPolicy:
    """What ``agent`` may send, from its permissions."""

    __slots__ = ("_bucket", "_max_receivers", "_rate", "_recipients", "agent")

    def __init__(self, agent: str, permissions: AgentPermissions) -> None:
        self.agent = agent
        self._recipients = Recipients.compile(permissions.messaging)
        self._max_receivers = permissions.max_receivers
        self._rate = permissions.rate
        rate = permissions.rate
        self._bucket = TokenBucket(rate.messages_per_s, rate.burst) if rate else None

    @classmethod
    def of(cls, agent: str, permissions: AgentPermissions | None) -> SendPolicy | None:
        """The policy, or None for an agent without permissions (it may send anything)."""
        return None if permissions is None else cls(agent, permissions)

    def screen(self, msg: AclMessage, cause: AclMessage | None, now: float) -> Denial | None:
        """Why ``msg``, sent while handling ``cause``, may not go; None when it may."""
        receivers = msg.receiver
        if self._max_receivers is not None and len(receivers) > self._max_receivers:
            return Denial(FANOUT, f"the message names {len(receivers)} receivers; agent "
                          f"'{self.agent}' may name at most {self._max_receivers} "
                          f"(permissions.max_receivers)")
        denied: list[str] | None = None
        for name in receivers:
            if not self._may(name, cause):
                if denied is None:
                    denied = []
                denied.append(name)
        if denied is not None:
            return Denial(MESSAGING, f"agent '{self.agent}' may not message "
                          f"{_names(denied)}: not among its permitted receivers "
                          f"(permissions.messaging)", tuple(denied))
        for name in msg.reply_to:  # replies would go there: the same privilege
            if not self._may(name, cause):
                return Denial(MESSAGING, f"agent '{self.agent}' may not name '{name}' in "
                              f"reply_to: not among its permitted receivers "
                              f"(permissions.messaging)", (name,))
        if self._bucket is not None and not self._bucket.take(now):
            rate = self._rate
            assert rate is not None
            return Denial(RATE, f"agent '{self.agent}' sends faster than its permitted "
                          f"{rate.messages_per_s:g} messages per second (burst {rate.burst}, "
                          f"permissions.rate): this message was not sent")
        return None

    def _may(self, name: str, cause: AclMessage | None) -> bool:
        if cause is not None and (name == cause.sender or name in cause.reply_to):
            return True
        return self._recipients.allows(name)


def _names(names: list[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


__all__ = ["FANOUT", "HOST_FUNCTION", "KINDS", "MESSAGING", "RATE", "Denial", "SendPolicy",
           "TokenBucket"]

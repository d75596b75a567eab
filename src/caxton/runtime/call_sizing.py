"""How many of an agent's queued messages its next sandbox call takes (``handle_batch``).

A call gets one message's fuel and deadline (docs/agent-abi.md), so a batch must fit in them:
the sizer keeps what the agent's messages cost lately (a maximum that decays, so a cheap agent
soon batches again after an expensive message) and takes as many as fit in half the budget.
"""

from __future__ import annotations

from caxton.domain.limits import ResourceLimits

MAX_CALL_BATCH = 64
_DECAY = 0.9  # the estimate follows a cheaper agent down ~10% per message


class CallSizer:
    __slots__ = ("_cost",)

    def __init__(self) -> None:
        # (fuel, seconds) one message costs lately; None until one ran: the first goes alone.
        self._cost: tuple[float, float] | None = None

    def size(self, queued: int, limits: ResourceLimits) -> int:
        """Messages for the next call, at most ``queued``; 1 means ``handle``."""
        if queued < 2 or self._cost is None:
            return 1
        fuel, seconds = self._cost
        fit = min(queued, MAX_CALL_BATCH, int(limits.fuel / (2 * fuel + 1)),
                  int(limits.timeout_ms / 1000 / (2 * seconds + 1e-9)))
        return max(fit, 1)

    def observed(self, fuel: float, seconds: float) -> None:
        """What one message cost (in a batch: its share of the call)."""
        if self._cost is None:
            self._cost = (fuel, seconds)
            return
        old_fuel, old_seconds = self._cost
        self._cost = (max(fuel, old_fuel * _DECAY), max(seconds, old_seconds * _DECAY))

    def spent(self, limits: ResourceLimits) -> None:
        """A batch ran out of its budget: one message at a time until the estimate decays."""
        self._cost = (float(limits.fuel), limits.timeout_ms / 1000)

"""Choosing the winning proposal of a Contract Net: the rules a protocol driver picks by.

A rule is written ``min:FIELD`` (the lowest value wins), ``max:FIELD`` (the highest wins) or
``first`` (the first proposal to arrive wins). FIELD names a number in the proposal's content, a
JSON object; a dotted path reaches into nested objects (``min:quote.price``). A proposal whose
content has no such number cannot be compared and is rejected, with the reason; so is every
proposal but the winner. Ties go to the proposal that arrived first. Pure: no IO, no clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from caxton.errors import InvalidMessageError

DEFAULT_RULE = "min:price"
_FIELD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]{0,63}(\.[A-Za-z_$][A-Za-z0-9_$-]{0,63}){0,7}")


class Mode(StrEnum):
    MIN = "min"
    MAX = "max"
    FIRST = "first"


@dataclass(frozen=True, slots=True)
class PickRule:
    """How to pick: ``mode`` and, for ``min``/``max``, the content ``field`` compared."""

    mode: Mode
    field: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> PickRule:
        """``min:price``, ``max:score``, ``first`` (None or empty: ``min:price``)."""
        text = (text or DEFAULT_RULE).strip()
        mode, colon, field = text.partition(":")
        if mode == Mode.FIRST and not colon:
            return cls(Mode.FIRST)
        if mode not in (Mode.MIN, Mode.MAX) or not colon:
            raise InvalidMessageError(
                "pick", f"unknown rule {text!r}: use min:FIELD, max:FIELD or first")
        if _FIELD.fullmatch(field) is None:
            raise InvalidMessageError(
                "pick", f"{field!r} is not a field name (letters, digits, '_', '-'; "
                "'.' for a nested field)")
        return cls(Mode(mode), field)

    def __str__(self) -> str:
        return self.mode.value if self.field is None else f"{self.mode.value}:{self.field}"

    def value(self, content: Any) -> float | None:
        """The number this rule compares in ``content``, or None when it has none."""
        if self.field is None:
            return None
        found = content
        for part in self.field.split("."):
            if not isinstance(found, dict) or part not in found:
                return None
            found = found[part]
        if isinstance(found, bool) or not isinstance(found, int | float):
            return None
        return float(found) if math.isfinite(found) else None


@dataclass(frozen=True, slots=True)
class Proposal:
    """One proposal, in arrival order: who made it and its content."""

    agent: str
    content: Any


@dataclass(frozen=True, slots=True)
class Selection:
    """The winner (None when no proposal could win) and every other proposal with why it lost."""

    winner: Proposal | None
    rejected: tuple[tuple[Proposal, str], ...]


def select(rule: PickRule, proposals: Sequence[Proposal]) -> Selection:
    """Pick the winner of ``proposals`` (in the order they arrived) by ``rule``."""
    if rule.mode is Mode.FIRST:
        if not proposals:
            return Selection(None, ())
        winner = proposals[0]
        return Selection(winner, tuple((p, "another proposal came first")
                                       for p in proposals[1:]))
    losers: list[tuple[int, Proposal, str]] = []
    scored: list[tuple[float, int, Proposal]] = []
    for order, proposal in enumerate(proposals):
        value = rule.value(proposal.content)
        if value is None:
            losers.append((order, proposal, f"the proposal has no number at '{rule.field}' to "
                                            f"compare by {rule}"))
        else:
            scored.append((value if rule.mode is Mode.MIN else -value, order, proposal))
    if not scored:
        return Selection(None, tuple((p, why) for _, p, why in losers))
    best = min(scored, key=lambda s: (s[0], s[1]))
    lost = f"not the best proposal by {rule}"
    losers.extend((order, p, lost) for _, order, p in scored if order != best[1])
    losers.sort(key=lambda item: item[0])
    return Selection(best[2], tuple((p, why) for _, p, why in losers))

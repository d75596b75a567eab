"""A conversation drawn as a message sequence chart: one lifeline per party, one row per message.

    +0.000s  ●──cfp────────▶┼──────────────▶        buyer sends cfp to s1 and s2
    +0.004s  ◀──propose─────●               │

Rows carry the time since the first message; messages the platform held back (protocol
violations, late proposals) end in ``✗``, and events such as timeouts get a row of their own.
When the lifelines do not fit the terminal, the chart falls back to one line per message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from caxton.domain.ids import is_client_inbox

_TIME_WIDTH = 10
_MIN_COLUMN, _MAX_COLUMN = 12, 20


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _label(name: str) -> str:
    return "client" if is_client_inbox(name) else name


def lifelines(conv: dict[str, Any]) -> list[str]:
    """The parties in chart order: the initiator first, then as they appear."""
    order: dict[str, None] = {}
    if conv.get("initiator"):
        order[conv["initiator"]] = None
    for msg in conv.get("messages", []):
        order[msg["sender"]] = None
        for name in msg.get("receiver", []):
            order[name] = None
    for name in conv.get("participants", []):
        order[name] = None
    return list(order)


def render(conv: dict[str, Any], width: int = 100) -> list[str]:
    """The chart's lines (no trailing newlines)."""
    names = lifelines(conv)
    messages = conv.get("messages", [])
    if not messages:
        return ["(no messages)"]
    column = max(_MIN_COLUMN, min(_MAX_COLUMN, max(len(_label(n)) for n in names) + 3))
    held = {e["message_id"]: e for e in conv.get("events", []) if e.get("message_id")}
    shown = {msg.get("message_id") for msg in messages}
    start = _when(messages[0]["timestamp"])
    rows: list[tuple[datetime, str]] = []
    fits = _TIME_WIDTH + column * len(names) <= width
    for msg in messages:
        at = _when(msg["timestamp"])
        stamp = f"+{(at - start).total_seconds():.3f}s".ljust(_TIME_WIDTH)
        event = held.get(msg.get("message_id", ""))
        note = f"  ✗ {event['kind']}: {event['detail']}" if event else ""
        if fits:
            line = _arrow(names, column, msg, crossed=event is not None)
        else:
            receivers = ", ".join(_label(r) for r in msg.get("receiver", []))
            line = f"{_label(msg['sender'])} ─{msg['performative']}─▶ {receivers}"
        rows.append((at, (stamp + line).rstrip() + note))
    for event in conv.get("events", []):
        if event.get("message_id") in shown:
            continue  # shown on its message's row (a message past the listed ones is not)
        at = _when(event["at"])
        stamp = f"+{(at - start).total_seconds():.3f}s".ljust(_TIME_WIDTH)
        rows.append((at, f"{stamp}⏱ {event['kind']}: {event['detail']}"))
    rows.sort(key=lambda row: row[0])
    header: list[str] = []
    if fits:
        header.append(" " * _TIME_WIDTH + "".join(_label(n)[:column - 1].center(column)
                                                  for n in names).rstrip())
        header.append(" " * _TIME_WIDTH + "".join("│".center(column) for _ in names).rstrip())
    return header + [text for _, text in rows]


def _arrow(names: list[str], column: int, msg: dict[str, Any], *, crossed: bool) -> str:
    centre = [i * column + column // 2 for i in range(len(names))]
    line = [" "] * (column * len(names))
    for x in centre:
        line[x] = "│"
    index = {name: i for i, name in enumerate(names)}
    source = index[msg["sender"]]
    targets = [index[r] for r in msg.get("receiver", []) if r in index]
    perf = msg["performative"]
    if not targets or targets == [source]:
        text = f"●↺ {perf}"
        line[centre[source]:centre[source] + len(text)] = text
        return "".join(line)
    lo, hi = min(source, *targets), max(source, *targets)
    for x in range(centre[lo], centre[hi] + 1):
        line[x] = "─"
    for i in range(lo + 1, hi):
        line[centre[i]] = "┼"
    for t in targets:
        line[centre[t]] = "✗" if crossed else ("▶" if t > source else "◀")
    line[centre[source]] = "●"
    text = f" {perf} "
    if len(text) > column - 2:  # too long for the gap next to the sender: write it after
        return "".join(line).rstrip() + f"  {perf}"
    at = centre[source] + 2 if max(targets) > source else centre[source] - 1 - len(text)
    line[at:at + len(text)] = text
    return "".join(line)

"""Printing what the protocol drivers return (``caxton messages cfp|subscribe``), and parsing
their options."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from caxton.cli._errors import EXIT_ERROR, EXIT_TIMEOUT, EXIT_USAGE, CliError
from caxton.cli._output import console, emit_fields, emit_table

_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m)?\s*")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}
_CONTENT_WIDTH = 60


def duration(text: str, option: str) -> float:
    """``5s``, ``500ms``, ``2m`` or a plain number of seconds."""
    found = _DURATION.fullmatch(text)
    if found is None:
        raise CliError(f"{option}: {text!r} is not a duration such as 5s, 500ms or 2m",
                       EXIT_USAGE)
    return float(found.group(1)) * _UNITS[found.group(2)]


def deadline(text: str, option: str) -> str:
    """An RFC 3339 time: ``text`` itself when it is one, else now plus the duration it names."""
    if "T" in text or "t" in text[:11]:
        return text  # the server checks it
    moment = datetime.now(UTC) + timedelta(seconds=duration(text, option))
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def params(pairs: list[str] | None) -> dict[str, str]:
    """``--param X-Ledger=books`` options as user-defined parameters."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        key, eq, value = pair.partition("=")
        key = key.strip()
        if not eq or not key.lower().startswith("x-"):
            raise CliError(f"--param: expected X-NAME=VALUE, not {pair!r}", EXIT_USAGE)
        out[key] = value
    return out


def addresses(pairs: list[str] | None) -> dict[str, list[str]]:
    """``--address NAME=URL`` options as a message's ``addresses`` (a NAME given twice gets
    both URLs)."""
    out: dict[str, list[str]] = {}
    for pair in pairs or ():
        name, eq, url = pair.partition("=")
        name, url = name.strip(), url.strip()
        if not eq or not name or not url:
            raise CliError(f"--address: expected NAME=URL, not {pair!r}", EXIT_USAGE)
        out.setdefault(name, []).append(url)
    return out


def _json(value: Any, width: int | None = _CONTENT_WIDTH) -> str:
    text = orjson.dumps(value).decode()
    if width is not None and len(text) > width:
        text = text[:width - 1] + "…"
    return text


def _after(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f}s"


def show_outcome(outcome: dict[str, Any]) -> None:
    """The outcome as a few fields and a table of the participants' answers."""
    winner, result = outcome.get("winner"), outcome.get("result")
    fields: list[tuple[str, Any]] = [
        ("conversation", outcome["conversation_id"]),
        ("protocol", f"{outcome['protocol']}, pick {outcome['rule']}, "
                     f"reply by {outcome['reply_by']}"),
        ("winner", f"{winner}: {_json(outcome.get('proposal'), None)}" if winner else "none"),
    ]
    if winner:
        fields.append(("result", "no answer in time" if result is None else
                       f"{result['performative']} after {_after(result['after_s'])}: "
                       f"{_json(result['content'], None)}"))
    fields.append(("status", f"{outcome['status']} in {_after(outcome['elapsed_s'])}"))
    emit_fields(fields)
    console.print()
    emit_table(["AGENT", "ANSWER", "AFTER", "CONTENT", "DECISION", "REASON"], [
        [p["agent"], p["answer"], _after(p.get("after_s")),
         _json(p.get("content")) if p.get("answer") in ("proposed", "refused") else "",
         p.get("decision") or "", p.get("reason") or ""]
        for p in outcome["participants"]])


def outcome_error(outcome: dict[str, Any]) -> CliError | None:
    """Why the command should exit non-zero, or None when the winner reported success."""
    status = outcome["status"]
    if status == "done":
        return None
    if status == "no-proposals":
        return CliError("nobody proposed", EXIT_ERROR)
    if status == "none-acceptable":
        return CliError(f"no proposal could be compared by {outcome['rule']}", EXIT_ERROR)
    if status == "no-result":
        return CliError(f"{outcome['winner']} did not report a result in time", EXIT_TIMEOUT)
    result = outcome.get("result") or {}
    return CliError(f"{outcome['winner']} replied {result.get('performative')}: "
                    f"{_json(result.get('content'), None)}", EXIT_ERROR)


def event_line(event: dict[str, Any]) -> str:
    """One subscription event as a line: ``+0.150s inform ticker: {"tick":1}``."""
    kind, msg = event["event"], event.get("message") or {}
    stamp = f"+{event.get('after_s', 0.0):.3f}s"
    if kind == "subscribed":
        return (f"{stamp} subscribed to {','.join(msg.get('receiver', []))} "
                f"(conversation {event['conversation_id']})")
    if kind == "cancelled":
        answer = event.get("answer")
        if answer is None:
            why = event.get("reason") or "no answer in time"
            return f"{stamp} cancel: {event.get('outcome')} ({why})"
        return (f"{stamp} cancel answered: {answer['performative']} {answer['sender']}: "
                f"{_json(answer.get('content'), None)} ({event.get('outcome')})")
    return f"{stamp} {kind} {msg.get('sender')}: {_json(msg.get('content'), None)}"


def subscription_error(last: dict[str, Any] | None) -> CliError | None:
    """Why a finished subscription should exit non-zero, or None (cancelled as asked)."""
    if last is None:
        return CliError("the subscription stream ended without a word", EXIT_ERROR)
    if last["event"] == "cancelled":
        if last.get("outcome") == "cancelled":
            return None
        return CliError(f"the cancel was not confirmed: {last.get('outcome')}", EXIT_ERROR)
    msg = last.get("message") or {}
    if last["event"] in ("refuse", "failure", "not-understood"):
        return CliError(f"{msg.get('sender')} replied {last['event']}: "
                        f"{_json(msg.get('content'), None)}", EXIT_ERROR)
    return CliError("the subscription stream ended before the subscription did", EXIT_ERROR)

"""FIPA date-time tokens (SC00070 ``DateTime``, SC00085 section 2.5) to and from ``datetime``.

FIPA writes instants as ``YYYYMMDDTHHMMSSmmm`` with an optional type designator (``Z`` for UTC)
and relative times as the same digits after ``+`` (a duration from now). Real platforms also send
the variant ``YYYYMMDDZHHMMSSmmm`` in envelopes and ISO 8601 extended form; we accept all of them
and always write the standard UTC form, which every implementation reads. A token without a
designator is local time of the sender in FIPA's words; we cannot know that zone, so it is taken
as UTC.
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import UTC, datetime, timedelta

_ABSOLUTE = re.compile(
    r"(?P<date>\d{8})(?:[Tt](?P<time>\d{6})(?P<ms>\d{1,3})?(?P<tz>[A-Za-z])?"
    r"|[Zz](?P<vtime>\d{6})(?P<vms>\d{1,3})?)"
)
_RELATIVE = re.compile(r"(?P<sign>[+-])(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})[Tt]"
                       r"(?P<h>\d{2})(?P<mi>\d{2})(?P<s>\d{2})(?P<ms>\d{3})?(?P<tz>[A-Za-z])?")
# Either form, without named groups: how a lexer tells a date-time from a word or a number.
TOKEN = re.compile(r"[+-]?\d{8}[Tt]\d{6}\d{0,3}[A-Za-z]?|\d{8}[Zz]\d{6}\d{0,3}")


def format_token(moment: datetime) -> str:
    """``moment`` as ``YYYYMMDDTHHMMSSmmmZ`` in UTC (millisecond precision, as FIPA has)."""
    t = moment.astimezone(UTC)
    return (f"{t.year:04d}{t.month:02d}{t.day:02d}T{t.hour:02d}{t.minute:02d}{t.second:02d}"
            f"{t.microsecond // 1000:03d}Z")


def parse_token(text: str, *, now: datetime | None = None) -> datetime:
    """The UTC instant ``text`` names; raises ValueError saying why it is not a FIPA date-time.

    ``now`` anchors relative tokens (``+00000000T000005000`` is five seconds after it); it
    defaults to the current time.
    """
    text = text.strip()
    rel = _RELATIVE.fullmatch(text)
    if rel is not None:
        return _relative(rel, now if now is not None else datetime.now(UTC))
    found = _ABSOLUTE.fullmatch(text)
    if found is None:
        return _iso_extended(text)
    time = found["time"] or found["vtime"]
    ms = found["ms"] or found["vms"] or "0"
    tz = found["tz"]
    if tz is not None and tz.upper() != "Z":
        raise ValueError(f"{text!r}: only the UTC designator 'Z' is supported, not {tz!r}")
    date = found["date"]
    try:
        return datetime(int(date[:4]), int(date[4:6]), int(date[6:]), int(time[:2]),
                        int(time[2:4]), int(time[4:]), int(ms.ljust(3, "0")) * 1000, tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date-time: {exc}") from None


def _iso_extended(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.upper())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a FIPA date-time (YYYYMMDDTHHMMSSmmmZ or +YYYYMMDDTHHMMSSmmm)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _relative(found: re.Match[str], now: datetime) -> datetime:
    sign = -1 if found["sign"] == "-" else 1
    if found["tz"] is not None and found["tz"].upper() != "Z":
        raise ValueError(f"{found[0]!r}: only the UTC designator 'Z' is supported")
    try:
        moment = _add_months(now.astimezone(UTC),
                             sign * (int(found["y"]) * 12 + int(found["mo"])))
        return moment + sign * timedelta(
            days=int(found["d"]), hours=int(found["h"]), minutes=int(found["mi"]),
            seconds=int(found["s"]), milliseconds=int(found["ms"] or "0"))
    except OverflowError:
        raise ValueError(f"{found[0]!r} is out of range") from None


def _add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, as Java's Calendar.add does: the 31st plus one month is the 30th."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError
    day = min(moment.day, monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)

"""Garbage-collector settings for a server process that moves many small messages.

Every routed message allocates a few dozen container objects (the message, its lists and dicts,
the log rows), almost all freed by reference counting at once. CPython's default runs a young
collection every 700 container allocations, so under load one ran every few dozen messages and,
now and then, a full one over every object the server holds. A young generation of 20,000 and
``gc.freeze()`` of what start-up built (modules, compiled code, agents) moved 35% more one-way
messages per second through the threaded runtime (13.4k-14.7k to 18.8k-19.8k msg/s, three
alternating pairs; bench figures in docs/performance.md). Cycles are still collected.
"""

from __future__ import annotations

import gc

YOUNG = 20_000  # container allocations between young collections (CPython's default: 700)
OLDER = 20  # young collections per middle one, and middle ones per full one (default: 10)


def tune_for_messages() -> None:
    """Collect less often; for a process whose garbage is mostly freed by reference counts."""
    gc.set_threshold(YOUNG, OLDER, OLDER)


def settle_startup() -> None:
    """Leave what start-up built out of every later collection (it lives as long as the
    process); call once the server is up."""
    gc.collect()
    gc.freeze()

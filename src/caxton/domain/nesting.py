"""How deeply a JSON value nests, measured without recursion (so no input can exhaust the stack).

Message content is any JSON value, and it is serialized again and again (the wire form agents
read, the store, API answers, event streams), each time wrapped in a few more levels. orjson
refuses to serialize more than 254 levels, so content nested near that would be accepted and then
fail later, as an internal error. Content is therefore held to ``max_content_depth`` where
messages enter the platform (the APIs and the MTP), and never to more than
``CONTENT_DEPTH_CEILING``, which leaves room for the wrapping.
"""

from __future__ import annotations

from typing import Any

CONTENT_DEPTH_CEILING = 200
DEFAULT_MAX_CONTENT_DEPTH = 64

_CONTAINERS = (list, tuple, dict)


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest in ``value`` more than ``limit`` levels deep.

    A scalar has depth 0, ``[1]`` and ``{"a": 1}`` depth 1, ``[[1]]`` depth 2. Stops at the
    first container past the limit; otherwise visits each container once.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, _CONTAINERS):
            continue
        depth += 1
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth) for child in children if isinstance(child, _CONTAINERS))
    return False

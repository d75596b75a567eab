"""How deeply JSON content nests, and the bound parse_message holds it to."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from caxton.domain.acl import parse_message
from caxton.domain.nesting import CONTENT_DEPTH_CEILING, DEFAULT_MAX_CONTENT_DEPTH, depth_exceeds
from caxton.errors import InvalidMessageError


def nested(levels: int) -> object:
    value: object = 1
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


def depth(value: object) -> int:  # the recursive definition, for values small enough for it
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


@pytest.mark.parametrize(("value", "levels"), [
    (None, 0), ("text", 0), ([], 1), ({}, 1), ([1, [2]], 2),
    ({"a": [{"b": []}]}, 4), ({"a": [{"b": 1}]}, 3),
    ([[], [[[]]], []], 4),
])
def test_depth_counts_levels_of_arrays_and_objects(value: object, levels: int) -> None:
    assert not depth_exceeds(value, levels)
    assert depth_exceeds(value, levels - 1) == (levels > 0)


json_values = st.recursive(st.none() | st.integers() | st.text(max_size=3),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=2), inner, max_size=3),
                           max_leaves=30)


@given(json_values, st.integers(min_value=0, max_value=12))
def test_depth_agrees_with_the_recursive_definition(value: object, limit: int) -> None:
    assert depth_exceeds(value, limit) == (depth(value) > limit)


def test_a_million_levels_do_not_exhaust_the_stack() -> None:
    assert depth_exceeds(nested(1_000_000), CONTENT_DEPTH_CEILING)
    assert not depth_exceeds(nested(CONTENT_DEPTH_CEILING), CONTENT_DEPTH_CEILING)


def test_parse_message_holds_content_to_the_depth_it_is_given() -> None:
    obj = {"performative": "inform", "sender": "a", "receiver": "b", "content": nested(10)}
    assert parse_message(obj, max_depth=10).content == nested(10)
    with pytest.raises(InvalidMessageError) as refused:
        parse_message(obj, max_depth=9)
    assert refused.value.field == "content"
    assert "more than 9 levels" in refused.value.message


def test_the_ceiling_keeps_every_accepted_message_serializable() -> None:
    """orjson refuses 255 levels: content at the ceiling, wrapped as the APIs and the store wrap
    messages (a conversation's message list, an event stream item), still serializes."""
    msg = parse_message({"performative": "inform", "sender": "a", "receiver": "b",
                         "content": nested(CONTENT_DEPTH_CEILING)})
    orjson.dumps({"dead_letters": [{"message": {"event": {"message": msg.to_dict()}}}]})
    with pytest.raises(InvalidMessageError):
        parse_message({"performative": "inform", "sender": "a", "receiver": "b",
                       "content": nested(CONTENT_DEPTH_CEILING + 1)})
    assert DEFAULT_MAX_CONTENT_DEPTH < CONTENT_DEPTH_CEILING

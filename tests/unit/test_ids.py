"""Unit tests for caxton.domain.ids: agent names, reserved names, ids and client inboxes."""

from __future__ import annotations

import os
import re
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caxton.domain.acl import parse_message
from caxton.domain.ids import (
    CLIENT_PREFIX,
    PLATFORM_AGENT,
    RESERVED_NAMES,
    is_agent_name,
    is_client_inbox,
    new_client_inbox,
    new_id,
    validate_agent_name,
)
from caxton.errors import InvalidAgentNameError

LEGAL = ["a", "Z", "echo", "agent-1", "my_agent", "v1.2.3", "A" + "b" * 63, "x-_.9",
         "amsx", "dfa", "caxton2", "ams-helper"]
ILLEGAL = ["", "1agent", "_agent", "-agent", ".agent", "a" * 65, "has space", "slash/name",
           "at@host", "colon:x", "ünicode", "tab\t", "trailing\n", "quote\"", "plus+x"]

# Letters first, then letters, digits, '_', '.', '-': generated independently of the module.
agent_names = st.builds(
    str.__add__,
    st.sampled_from("abcxyzABCXYZ"),
    st.text(alphabet="abzAZ09_.-", max_size=63),
)


@pytest.mark.parametrize("name", LEGAL)
def test_legal_names_are_returned_unchanged(name: str) -> None:
    assert validate_agent_name(name) is name
    assert is_agent_name(name)


@pytest.mark.parametrize("name", ILLEGAL)
def test_illegal_names_are_refused_with_the_rule(name: str) -> None:
    with pytest.raises(InvalidAgentNameError) as info:
        validate_agent_name(name)
    assert repr(name) in info.value.message
    assert "a letter followed by up to 63 letters, digits, '_', '.' or '-'" in info.value.message
    assert info.value.code == "invalid_agent_name"
    assert not is_agent_name(name)


def test_length_limit_is_64_characters() -> None:
    assert validate_agent_name("a" * 64) == "a" * 64
    with pytest.raises(InvalidAgentNameError):
        validate_agent_name("a" * 65)


@pytest.mark.parametrize("value", [None, 7, b"agent", ["agent"]])
def test_non_strings_are_refused(value: Any) -> None:
    with pytest.raises(InvalidAgentNameError):
        validate_agent_name(value)


def test_reserved_names() -> None:
    assert frozenset({"ams", "df", "caxton"}) == RESERVED_NAMES
    assert PLATFORM_AGENT in RESERVED_NAMES


@pytest.mark.parametrize("name", ["ams", "AMS", "Ams", "df", "DF", "caxton", "CaXtOn"])
def test_reserved_names_are_refused_in_any_case(name: str) -> None:
    with pytest.raises(InvalidAgentNameError, match="reserved for the platform") as info:
        validate_agent_name(name)
    assert repr(name) in info.value.message
    assert is_agent_name(name)  # well-formed, just not available


def test_new_id_is_32_hex_digits_and_unique() -> None:
    made = {new_id() for _ in range(1000)}
    assert len(made) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in made)


def test_client_inbox_shape() -> None:
    inbox = new_client_inbox()
    assert inbox.startswith(CLIENT_PREFIX)
    assert re.fullmatch(re.escape(CLIENT_PREFIX) + r"[0-9a-f]{12}", inbox)
    assert is_client_inbox(inbox)
    assert len({new_client_inbox() for _ in range(1000)}) == 1000


def test_client_inbox_is_never_a_legal_agent_name() -> None:
    for _ in range(200):
        inbox = new_client_inbox()
        assert not is_agent_name(inbox)
        with pytest.raises(InvalidAgentNameError):
            validate_agent_name(inbox)


def test_client_inbox_is_still_a_routable_message_address() -> None:
    inbox = new_client_inbox()
    msg = parse_message({"performative": "inform", "sender": inbox, "receiver": inbox})
    assert msg.receiver == (inbox,)
    assert msg.sender == inbox


@given(agent_names)
def test_no_legal_agent_name_is_a_client_inbox(name: str) -> None:
    assert is_agent_name(name)
    if name.lower() not in RESERVED_NAMES:
        assert validate_agent_name(name) == name
    assert not is_client_inbox(name)


@pytest.mark.parametrize("name", ["echo", "client-1", "_clientx", "_client"])
def test_is_client_inbox_needs_the_full_prefix(name: str) -> None:
    assert not is_client_inbox(name)


def test_ids_made_later_sort_later_and_differ_in_their_random_part() -> None:
    first = new_id()
    time.sleep(0.002)
    second = new_id()
    assert first < second  # millisecond time first: the store's indexes grow at one end
    same_ms = [new_id() for _ in range(200)]
    assert len({i[12:] for i in same_ms}) == 200  # 80 unguessable bits each


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.write(write, new_id().encode())
        os._exit(0)
    os.close(write)
    child_id = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    parent_id = new_id()
    assert len(child_id) == 32 and child_id[12:] != parent_id[12:]

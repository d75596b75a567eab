"""Unit tests for caxton.domain.lifecycle: the agent state machine, pair by pair."""

from __future__ import annotations

import itertools

import pytest

from caxton.domain.lifecycle import (
    ACCEPTING,
    AgentState,
    Transition,
    allowed,
    next_state,
)
from caxton.errors import CaxtonError, IllegalTransitionError

S, T = AgentState, Transition

# The machine as the module's diagram draws it, written out independently of its table.
LEGAL: dict[tuple[AgentState, Transition], AgentState] = {
    (S.UNLOADED, T.LOAD): S.LOADED,
    (S.LOADED, T.START): S.RUNNING,
    (S.LOADED, T.STOP): S.STOPPED,  # deployed stopped
    (S.LOADED, T.FAIL): S.FAILED,
    (S.RUNNING, T.DRAIN): S.DRAINING,
    (S.RUNNING, T.FAIL): S.FAILED,
    (S.DRAINING, T.STOP): S.STOPPED,
    (S.DRAINING, T.START): S.RUNNING,  # resume
    (S.DRAINING, T.FAIL): S.FAILED,
    (S.STOPPED, T.START): S.RUNNING,  # resume
    (S.FAILED, T.START): S.RUNNING,  # restart after a failure
}
ALL_PAIRS = list(itertools.product(AgentState, Transition))
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in LEGAL]


def test_state_and_transition_names() -> None:
    assert [s.value for s in AgentState] == [
        "unloaded", "loaded", "running", "draining", "stopped", "failed"]
    assert [t.value for t in Transition] == ["load", "start", "drain", "stop", "fail"]


def test_pairs_split_into_legal_and_illegal() -> None:
    assert len(ALL_PAIRS) == 30
    assert len(LEGAL) == 11
    assert len(ILLEGAL) == 19


@pytest.mark.parametrize(("pair", "after"), list(LEGAL.items()), ids=str)
def test_legal_transition(pair: tuple[AgentState, Transition], after: AgentState) -> None:
    state, transition = pair
    assert next_state(state, transition) is after


@pytest.mark.parametrize(("state", "transition"), ILLEGAL)
def test_illegal_transition_is_refused_readably(state: AgentState, transition: Transition
                                                 ) -> None:
    with pytest.raises(IllegalTransitionError) as info:
        next_state(state, transition)
    error = info.value
    assert str(error) == f"cannot {transition.value} an agent that is {state.value}"
    assert error.message == str(error)
    assert error.code == "illegal_transition"
    assert isinstance(error, CaxtonError)
    # `from None`: the dictionary lookup that failed is not part of the story.
    assert error.__cause__ is None
    assert error.__suppress_context__ is True


@pytest.mark.parametrize("state", list(AgentState))
def test_allowed_lists_exactly_the_legal_transitions(state: AgentState) -> None:
    assert allowed(state) == frozenset(t for (s, t) in LEGAL if s is state)


@pytest.mark.parametrize("state", list(AgentState))
def test_allowed_agrees_with_next_state(state: AgentState) -> None:
    for transition in Transition:
        if transition in allowed(state):
            next_state(state, transition)
        else:
            with pytest.raises(IllegalTransitionError):
                next_state(state, transition)


def test_unloaded_can_only_be_loaded_and_nothing_returns_to_it() -> None:
    assert allowed(S.UNLOADED) == {T.LOAD}
    assert S.UNLOADED not in LEGAL.values()
    for state, transition in ALL_PAIRS:
        if (state, transition) in LEGAL:
            assert next_state(state, transition) is not S.UNLOADED


def test_a_running_agent_must_drain_before_it_stops() -> None:
    with pytest.raises(IllegalTransitionError, match="cannot stop an agent that is running"):
        next_state(S.RUNNING, T.STOP)
    assert next_state(next_state(S.RUNNING, T.DRAIN), T.STOP) is S.STOPPED


def test_every_state_but_unloaded_can_reach_running() -> None:
    for state in AgentState:
        seen, frontier = {state}, [state]
        while frontier:
            current = frontier.pop()
            for transition in allowed(current):
                after = next_state(current, transition)
                if after not in seen:
                    seen.add(after)
                    frontier.append(after)
        assert S.RUNNING in seen


def test_only_running_agents_accept_messages() -> None:
    assert frozenset({S.RUNNING}) == ACCEPTING

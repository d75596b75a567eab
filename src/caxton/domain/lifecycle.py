"""The agent lifecycle as a state machine.

    loaded ──start──▶ running ──drain──▶ draining ──stop──▶ stopped
      │ └──stop (deployed stopped)─────────────────────────▶ stopped
      │                 │  ▲                 │                 │
      └──fail──▶ failed ◀┘  └─────start──────┴─────────────────┘ (resume)
                    │
                    └──start──▶ running   (restart after a failure)

``unloaded`` is where every agent begins; ``load`` takes it to ``loaded`` once its module is
validated and instantiated. Removing an agent is not a state: it leaves the table.
"""

from __future__ import annotations

from enum import StrEnum

from caxton.errors import IllegalTransitionError


class AgentState(StrEnum):
    UNLOADED = "unloaded"
    LOADED = "loaded"
    RUNNING = "running"
    DRAINING = "draining"
    STOPPED = "stopped"
    FAILED = "failed"


class Transition(StrEnum):
    LOAD = "load"
    START = "start"
    DRAIN = "drain"
    STOP = "stop"
    FAIL = "fail"


_S = AgentState
_TABLE: dict[tuple[AgentState, Transition], AgentState] = {
    (_S.UNLOADED, Transition.LOAD): _S.LOADED,
    (_S.LOADED, Transition.START): _S.RUNNING,
    (_S.RUNNING, Transition.DRAIN): _S.DRAINING,
    (_S.DRAINING, Transition.STOP): _S.STOPPED,
    (_S.DRAINING, Transition.START): _S.RUNNING,
    (_S.STOPPED, Transition.START): _S.RUNNING,
    (_S.FAILED, Transition.START): _S.RUNNING,
    (_S.LOADED, Transition.STOP): _S.STOPPED,
    (_S.LOADED, Transition.FAIL): _S.FAILED,
    (_S.RUNNING, Transition.FAIL): _S.FAILED,
    (_S.DRAINING, Transition.FAIL): _S.FAILED,
}

# States in which an agent takes new messages into its mailbox.
ACCEPTING = frozenset({AgentState.RUNNING})


def next_state(current: AgentState, transition: Transition) -> AgentState:
    """The state after ``transition``, or IllegalTransitionError when the machine forbids it."""
    try:
        return _TABLE[(current, transition)]
    except KeyError:
        raise IllegalTransitionError(
            f"cannot {transition.value} an agent that is {current.value}"
        ) from None


def allowed(current: AgentState) -> frozenset[Transition]:
    return frozenset(t for (s, t) in _TABLE if s is current)

"""The one-to-one protocols: fipa-request, fipa-query, fipa-request-when, fipa-subscribe and
fipa-propose (SC00026, SC00027, SC00028, SC00035, SC00036).

All but propose share one shape: the initiator asks; the participant may ``refuse``, or ``agree``
and later report ``inform`` or ``failure``. FIPA lets the participant skip the ``agree`` when it
answers at once (SC00026), and JADE-style platforms do so routinely for every one of these, so
the result may follow the question directly. A subscription stays open after its ``agree``:
each ``inform`` is a notification, and only a ``failure`` or the initiator's ``cancel`` (answered
with ``inform``) ends it.
"""

from __future__ import annotations

from caxton.domain.protocols.base import INIT, PART, Protocol, rows


def _ask(name: str, opening: str, *, result_governed: bool) -> Protocol:
    """A protocol where the participant refuses, or agrees and then reports inform/failure.

    ``result_governed``: whether ``reply_by`` also covers the result after an ``agree`` (it does
    for requests and queries; a request-when's result waits for its condition).
    """
    return Protocol(
        name=name,
        transitions=rows(
            ("start", opening, INIT, "asked"),
            ("asked", "agree", PART, "agreed"),
            ("asked", "refuse", PART, "refused"),
            ("asked|agreed", "inform", PART, "done"),
            ("asked|agreed", "failure", PART, "failed"),
        ),
        final=frozenset({"refused", "done", "failed", "timed-out"}),
        awaiting=frozenset({"asked", "agreed"} if result_governed else {"asked"}),
    )


REQUEST = _ask("fipa-request", "request", result_governed=True)
QUERY = _ask("fipa-query", "query-if|query-ref", result_governed=True)
REQUEST_WHEN = _ask("fipa-request-when", "request-when", result_governed=False)

SUBSCRIBE = Protocol(
    name="fipa-subscribe",
    transitions=rows(
        ("start", "subscribe", INIT, "subscribed"),
        ("subscribed", "agree", PART, "active"),
        ("subscribed", "refuse", PART, "refused"),
        ("subscribed|active", "inform", PART, "active"),
        ("subscribed|active", "failure", PART, "failed"),
    ),
    # "active" is not final: a subscription ends with a failure or a cancel.
    final=frozenset({"refused", "failed", "timed-out"}),
    awaiting=frozenset({"subscribed"}),
)

PROPOSE = Protocol(
    name="fipa-propose",
    transitions=rows(
        ("start", "propose", INIT, "proposed"),
        ("proposed", "accept-proposal", PART, "accepted"),
        ("proposed", "reject-proposal", PART, "rejected"),
    ),
    final=frozenset({"accepted", "rejected", "timed-out"}),
    awaiting=frozenset({"proposed"}),
)

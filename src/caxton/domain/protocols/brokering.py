"""fipa-brokering and fipa-recruiting (SC00033, SC00034).

The initiator sends ``proxy`` to a broker (or recruiter), naming the agents it wants reached and
the message for them. The broker answers ``refuse`` or ``agree`` (or ``failure`` when it finds
nobody), then contacts *targets*, agents that are not the initiator, on its behalf:

* brokering: targets answer the broker, which relays their replies to the initiator; any act may
  be relayed, and a ``failure`` from the broker ends its part.
* recruiting: targets answer the initiator directly (who may go on talking with them), and the
  recruiter reports ``inform`` once it has passed the message on.

Targets follow their own small table (contacted, then replied), and a broker may contact them
only after agreeing: that is ``forward_from``.
"""

from __future__ import annotations

from caxton.domain.protocols.base import INIT, PART, TGT, Protocol, rows

BROKERING = Protocol(
    name="fipa-brokering",
    transitions=rows(
        ("start", "proxy", INIT, "proxied"),
        ("proxied", "agree", PART, "brokering"),
        ("proxied", "refuse", PART, "refused"),
        ("proxied|brokering|relaying", "failure", PART, "failed"),
        ("brokering|relaying", "*", PART, "relaying"),
    ),
    targets=rows(
        ("start|replied", "*", PART, "contacted"),
        ("contacted|replied", "*", TGT, "replied"),
    ),
    final=frozenset({"refused", "failed", "relaying", "replied", "timed-out"}),
    roles={INIT: "initiator", PART: "broker", TGT: "target"},
    awaiting=frozenset({"proxied"}),
    forward_from=frozenset({"brokering", "relaying"}),
)

RECRUITING = Protocol(
    name="fipa-recruiting",
    transitions=rows(
        ("start", "proxy", INIT, "proxied"),
        ("proxied", "agree", PART, "recruiting"),
        ("proxied", "refuse", PART, "refused"),
        ("proxied|recruiting", "failure", PART, "failed"),
        ("recruiting", "inform", PART, "done"),
    ),
    targets=rows(
        ("start", "*", PART, "contacted"),
        ("contacted|replied", "*", TGT, "replied"),
        ("replied", "*", INIT, "replied"),
    ),
    final=frozenset({"refused", "failed", "done", "replied", "timed-out"}),
    roles={INIT: "initiator", PART: "recruiter", TGT: "target"},
    awaiting=frozenset({"proxied"}),
    forward_from=frozenset({"recruiting"}),
)

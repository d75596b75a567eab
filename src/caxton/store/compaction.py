"""Batch compaction: fewer, larger statements for a group commit, with the same end state.

The message path writes about six rows per message (the message, its conversation, its
participants, a pending delivery, and later that delivery's removal). Within one transaction:
- message rows go in with one ``executemany``;
- a conversation touched by many messages is upserted once, with the count added up;
- repeated participant rows are written once;
- a pending delivery that is inserted and then marked done in the same batch (a fast agent)
  never touches the table at all;
- a conversation's protocol state saved several times is saved once, the newest revision;
- the ``accepted`` rows of sender-chosen message ids go in with one ``executemany``.
Everything else keeps its order. Only statements that commute are moved: messages,
conversations and participants are written by nothing else in the message path (and
``accepted`` rows only by it, besides the pruning of old ones).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from caxton.store import acceptances as a
from caxton.store import conversation_log as c
from caxton.store import repositories as r
from caxton.store.writer import Statement

Batch = list[tuple[str, list[Sequence[Any]]]]

MERGE_CONVERSATION = (
    "INSERT INTO conversations(id, protocol, initiator, started_at, last_at, message_count)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET last_at = excluded.last_at,"
    " message_count = message_count + excluded.message_count,"
    " protocol = coalesce(protocol, excluded.protocol)"
)


def compact(statements: Iterable[Statement]) -> Batch:
    messages: list[Sequence[Any]] = []
    accepted: list[Sequence[Any]] = []
    conversations: dict[str, list[Any]] = {}
    participants: dict[tuple[Any, ...], None] = {}
    states: dict[Any, Sequence[Any]] = {}  # conversation id -> its newest state save
    added: dict[tuple[Any, Any], int] = {}  # pending delivery -> its index in ``rest``
    rest: list[Statement | None] = []
    for sql, params in statements:
        if sql is r.INSERT_MESSAGE:
            messages.append(params)
        elif sql is r.UPSERT_CONVERSATION:
            cid, protocol, initiator, started_at, last_at = params
            known = conversations.get(cid)
            if known is None:
                conversations[cid] = [cid, protocol, initiator, started_at, last_at, 1]
            else:
                known[4] = last_at
                known[5] += 1
                known[1] = known[1] or protocol
        elif sql is a.ACCEPT:
            accepted.append(params)
        elif sql is r.ADD_PARTICIPANT:
            participants[tuple(params)] = None
        elif sql is c.SAVE_STATE:
            known_state = states.get(params[0])
            if known_state is None or params[-1] > known_state[-1]:  # the last is the revision
                states[params[0]] = params
        elif sql is r.ADD_DELIVERY:
            added[(params[0], params[1])] = len(rest)
            rest.append((sql, params))
        elif sql is r.DONE_DELIVERY and (key := (params[0], params[1])) in added:
            rest[added.pop(key)] = None  # owed and settled within this transaction
        elif sql is r.DONE_DELIVERY:  # owed from an earlier transaction: touches no row here
            rest.append((sql, params))
        else:
            if "deliveries" in sql:
                # Any other change to deliveries (a retry, a dead letter, a removal): keep the
                # inserts before it exactly as they are.
                added.clear()
            rest.append((sql, params))
    batch: Batch = []
    if messages:
        batch.append((r.INSERT_MESSAGE, messages))
    if accepted:
        batch.append((a.ACCEPT, accepted))
    if conversations:
        batch.append((MERGE_CONVERSATION, [tuple(c) for c in conversations.values()]))
    if participants:
        batch.append((r.ADD_PARTICIPANT, list(participants)))
    if states:
        batch.append((c.SAVE_STATE, list(states.values())))
    kept = (s for s in rest if s is not None)
    for sql, group in itertools.groupby(kept, key=lambda s: s[0]):
        batch.append((sql, [params for _, params in group]))
    return batch


"""Which sends are retries of one another: a client's message id and what it was sent with.

A client (or another Caxton over the MTP) that is unsure whether a send went through sends it
again with the same ``message_id``; the platform accepts it once. A retry must be the same
message: the fingerprint covers what the sender chose, and leaves out what the platform fills in
per request (the timestamp, an API client's inbox as sender, trace context, the hop count), so
two honest retries match and a different message under a reused id does not.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

import orjson

from caxton.domain.acl import AclMessage

# Filled in per request when the sender left them out, or transport bookkeeping.
_VOLATILE = ("message_id", "timestamp", "trace_context")


def fingerprint(msg: AclMessage, *, sender_given: bool = True) -> str:
    """A short digest of what ``msg`` says, as its sender wrote it (call before the platform
    adds a conversation id or a reply address); ``sender_given`` False leaves the sender out
    (an API client's per-request inbox)."""
    body: dict[str, Any] = msg.to_dict()
    for name in _VOLATILE:
        body.pop(name, None)
    if not sender_given:
        body.pop("sender", None)
    digest = hashlib.blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=16)
    return digest.hexdigest()


def issue_id(key: bytes, fresh: str | None = None) -> str:
    """A message id for a message whose sender chose none: 32 hex digits like any id, the
    last 8 a MAC of the rest under ``key``, so ``was_issued`` knows it again without a record
    (a client that sends the message it was handed back again is retrying it). ``fresh``, a
    new random id (``new_id``), lends its first 24 digits as the random part: no second draw
    from the OS (which can cost tens of microseconds on a virtual machine)."""
    nonce = bytes.fromhex(fresh[:24]) if fresh is not None else os.urandom(12)
    return nonce.hex() + _tag(key, nonce)


def was_issued(message_id: str, key: bytes) -> bool:
    if len(message_id) != 32 or not message_id.isascii():
        return False
    try:
        nonce = bytes.fromhex(message_id[:24])
    except ValueError:
        return False
    return hmac.compare_digest(message_id[24:], _tag(key, nonce))


def _tag(key: bytes, nonce: bytes) -> str:
    return hashlib.blake2b(nonce, key=key, digest_size=4).hexdigest()

"""What the store keeps, read back for the APIs: dead letters and conversations.

A mixin of ``CaxtonService`` (the one service layer): reads first wait for the writes queued
so far (``_flushed``), so a client sees what it caused.
"""

from __future__ import annotations

import asyncio
from typing import Any

from caxton.errors import ConversationNotFoundError, DeadLetterNotFoundError, StoreError
from caxton.runtime.host import AgentHost
from caxton.store.repositories import DeliveryRepository
from caxton.store.store import Store


class StoredRecords:
    _store: Store
    _host: AgentHost

    # -- dead letters --------------------------------------------------------------------------
    async def dead_letters(self, *, agent: str | None = None, limit: int = 100
                           ) -> list[dict[str, Any]]:
        await self._flushed()
        rows = await asyncio.to_thread(self._store.deliveries.dead_letters, receiver=agent,
                                       limit=limit)
        return [row.to_dict() for row in rows]

    async def dead_letter(self, message_id: str) -> list[dict[str, Any]]:
        await self._flushed()
        rows = await asyncio.to_thread(self._store.deliveries.dead_letters,
                                       message_id=message_id)
        if not rows:
            raise DeadLetterNotFoundError(f"no dead letter with message id '{message_id}'")
        return [row.to_dict() for row in rows]

    async def replay_dead_letter(self, message_id: str) -> int:
        await self.dead_letter(message_id)
        return await asyncio.to_thread(self._host.replay, message_id)

    async def purge_dead_letters(self, message_id: str | None = None) -> int:
        await self._flushed()
        if message_id is not None:
            await self.dead_letter(message_id)
        count = len(await asyncio.to_thread(
            self._store.deliveries.dead_letters, message_id=message_id, limit=10**9))
        await asyncio.to_thread(self._store.writer.write,
                                [DeliveryRepository.purge(message_id)])
        return count

    # -- conversations -------------------------------------------------------------------------
    async def list_conversations(self, *, limit: int = 100, participant: str | None = None
                                 ) -> list[dict[str, Any]]:
        await self._flushed()
        rows = await asyncio.to_thread(self._store.conversations.recent, limit=limit,
                                       participant=participant)
        return [row.to_dict() for row in rows]

    async def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        await self._flushed()
        summary = await asyncio.to_thread(self._store.conversations.get, conversation_id)
        if summary is None:
            raise ConversationNotFoundError(f"no conversation with id '{conversation_id}'")
        log_ = self._store.conversation_log
        messages = await asyncio.to_thread(self._store.conversations.messages, conversation_id)
        # The events before the state: the two are separate reads, and a sweep may commit a
        # timeout (event and state in one transaction) between them. Read in this order, a
        # timeout event seen is always matched by the timed-out state (a newer state with an
        # older event list is harmless: the next read has both).
        events = await asyncio.to_thread(log_.events, conversation_id)
        _, state = await asyncio.to_thread(log_.state, conversation_id)
        parties = {name: {key: p.get(key) for key in ("kind", "state", "last", "deadline")}
                   for name, p in (state or {}).get("parties", {}).items()}
        return {**summary.to_dict(), "parties": parties,
                "events": [e.to_dict() for e in events], "messages": messages}

    async def _flushed(self) -> None:
        """Wait until writes queued so far are visible to readers."""
        try:
            await asyncio.wrap_future(self._store.writer.barrier())
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(str(exc)) from exc

"""MessageWatch (caxton.api.watch): filters, order, a hard bound that drops instead of
blocking the routing thread, and a clean end."""

from __future__ import annotations

import asyncio
import threading
import time

from caxton.api.watch import MessageWatch
from caxton.domain.acl import AclMessage, Performative


def _msg(i: int, sender: str = "a", receiver: str = "b",
         performative: Performative = Performative.INFORM) -> AclMessage:
    return AclMessage(performative=performative, sender=sender, receiver=(receiver,), content=i)


def test_filters_by_agent_either_side_and_by_performative() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        by_agent = MessageWatch(loop, agent="b")
        by_act = MessageWatch(loop, performative=Performative.REQUEST)
        assert by_agent.matches(_msg(1, sender="b")) and by_agent.matches(_msg(2, receiver="b"))
        assert not by_agent.matches(_msg(3, sender="x", receiver="y"))
        assert by_act.matches(_msg(4, performative=Performative.REQUEST))
        assert not by_act.matches(_msg(5))
        assert MessageWatch(loop).matches(_msg(6, sender="x", receiver="y"))

    asyncio.run(main())


def test_messages_from_another_thread_arrive_in_order_then_the_watch_ends() -> None:
    async def main() -> list[object]:
        watch = MessageWatch(asyncio.get_running_loop(), capacity=100)
        router = threading.Thread(target=lambda: [watch.tap(_msg(i)) for i in range(50)])
        router.start()
        got = [(await watch.next()).content for _ in range(50)]  # type: ignore[union-attr]
        router.join()
        watch.end()
        assert [m async for m in watch] == []
        assert await watch.next() is None  # and stays ended
        return got

    assert asyncio.run(main()) == list(range(50))


def test_a_slow_consumer_loses_messages_but_never_blocks_routing() -> None:
    async def main() -> None:
        watch = MessageWatch(asyncio.get_running_loop(), capacity=10)
        taps: list[float] = []

        def route() -> None:
            for i in range(20_000):
                started = time.perf_counter()
                watch.tap(_msg(i))
                taps.append(time.perf_counter() - started)

        router = threading.Thread(target=route)
        router.start()
        router.join(30)  # nobody reads meanwhile
        assert not router.is_alive()
        await asyncio.sleep(0)  # let the handed-off messages land
        assert watch.dropped == 20_000 - 10
        got = [(await watch.next()).content for _ in range(10)]  # type: ignore[union-attr]
        assert got == list(range(10))  # the first ones, in order
        assert max(taps) < 0.5 and sum(taps) / len(taps) < 0.001
        watch.tap(_msg(99))  # room again once read
        assert (await watch.next()).content == 99  # type: ignore[union-attr]
        watch.end()  # ends even when full
        assert await watch.next() is None

    asyncio.run(main())


def test_close_runs_the_callback_once_and_a_closed_loop_is_harmless() -> None:
    loop = asyncio.new_event_loop()
    watch = MessageWatch(loop)
    closed: list[int] = []
    watch.on_close(lambda: closed.append(1))
    watch.close()
    watch.close()
    assert closed == [1]
    loop.close()
    watch.tap(_msg(1))  # the server went away: dropped silently

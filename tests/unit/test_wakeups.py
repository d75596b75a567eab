"""Hand-offs to the event loop in batches (api/wakeups.py) and the cheap first-reply wait
(api/service.first_result)."""

from __future__ import annotations

import asyncio
import threading

import pytest
import uvloop

from caxton.api.service import first_result
from caxton.api.wakeups import Wakeups

LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture(params=sorted(LOOPS))
def runner(request: pytest.FixtureRequest) -> asyncio.Runner:
    with asyncio.Runner(loop_factory=LOOPS[request.param]) as r:
        yield r


def test_a_burst_posted_while_the_loop_is_busy_wakes_it_once(runner: asyncio.Runner) -> None:
    async def main() -> tuple[list[int], int]:
        wakeups = Wakeups(asyncio.get_running_loop())
        seen: list[int] = []
        done = asyncio.Event()

        def poster() -> None:
            for i in range(500):
                wakeups.post(seen.append, i)
            wakeups.post(done.set)

        thread = threading.Thread(target=poster)
        thread.start()
        thread.join()  # the loop is held here: everything posted waits for one wake-up
        await asyncio.wait_for(done.wait(), 10)
        return seen, wakeups.wakeups

    seen, count = runner.run(main())
    assert seen == list(range(500))
    assert count == 1


def test_posts_from_many_threads_all_run_in_each_threads_order(runner: asyncio.Runner) -> None:
    threads, per_thread = 8, 2000

    async def main() -> tuple[dict[int, list[int]], int]:
        wakeups = Wakeups(asyncio.get_running_loop())
        seen: dict[int, list[int]] = {t: [] for t in range(threads)}
        left = asyncio.Semaphore(0)

        def record(t: int, i: int) -> None:
            seen[t].append(i)
            if i == per_thread - 1:
                left.release()

        def poster(t: int) -> None:
            for i in range(per_thread):
                wakeups.post(record, t, i)

        workers = [threading.Thread(target=poster, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for _ in range(threads):
            await asyncio.wait_for(left.acquire(), 30)
        for w in workers:
            w.join()
        return seen, wakeups.wakeups

    seen, count = runner.run(main())
    assert all(seen[t] == list(range(per_thread)) for t in range(threads))
    assert 1 <= count <= threads * per_thread


def test_a_failing_callback_does_not_strand_the_rest(runner: asyncio.Runner) -> None:
    async def main() -> list[str]:
        wakeups = Wakeups(asyncio.get_running_loop())
        seen: list[str] = []
        done = asyncio.Event()

        def boom() -> None:
            raise RuntimeError("boom")

        wakeups.post(seen.append, "a")
        wakeups.post(boom)
        wakeups.post(seen.append, "b")
        wakeups.post(done.set)
        await asyncio.wait_for(done.wait(), 10)
        return seen

    assert runner.run(main()) == ["a", "b"]


def test_posting_to_a_closed_loop_is_dropped_quietly() -> None:
    loop = asyncio.new_event_loop()
    wakeups = Wakeups(loop)
    loop.close()
    wakeups.post(print, "never")  # no exception: nobody is left to wait


def test_first_result_returns_the_reply(runner: asyncio.Runner) -> None:
    async def main() -> object:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[object] = loop.create_future()
        loop.call_later(0.01, future.set_result, "reply")
        return await first_result(future, 10)  # type: ignore[arg-type]

    assert runner.run(main()) == "reply"


def test_first_result_times_out_without_touching_the_shared_future(
        runner: asyncio.Runner) -> None:
    async def main() -> tuple[object, asyncio.Future[object]]:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        got = await first_result(future, 0.05)  # type: ignore[arg-type]
        return got, future

    got, future = runner.run(main())
    assert got is None
    assert not future.done()  # a repeat of the same message id may still wait for it
    assert not future._callbacks  # type: ignore[attr-defined]  # nothing left behind


def test_a_cancelled_wait_leaves_nothing_behind(runner: asyncio.Runner) -> None:
    async def main() -> asyncio.Future[object]:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        task = asyncio.ensure_future(first_result(future, 30))  # type: ignore[arg-type]
        await asyncio.sleep(0.01)
        task.cancel()  # the client went away
        with pytest.raises(asyncio.CancelledError):
            await task
        return future

    future = runner.run(main())
    assert not future.done()
    assert not future._callbacks  # type: ignore[attr-defined]

"""Unit tests for caxton.runtime.keyed_lock: one key at a time, different keys in parallel."""

from __future__ import annotations

import threading
import time

from caxton.runtime.keyed_lock import KeyedLock


def test_the_same_key_is_held_by_one_thread_at_a_time() -> None:
    locks = KeyedLock()
    inside, most, guard = 0, 0, threading.Lock()

    def work() -> None:
        nonlocal inside, most
        with locks.hold("echo"):
            with guard:
                inside += 1
                most = max(most, inside)
            time.sleep(0.02)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most == 1
    assert len(locks) == 0  # nobody holds or waits: the lock is gone


def test_different_keys_do_not_wait_for_each_other() -> None:
    locks = KeyedLock()
    entered = threading.Event()
    with locks.hold("slow"):
        def take_other() -> None:
            with locks.hold("other"):
                entered.set()

        other = threading.Thread(target=take_other)
        other.start()
        assert entered.wait(5)  # while "slow" is still held
        assert len(locks) == 1
    other.join(5)
    assert len(locks) == 0


def test_a_failure_inside_releases_the_key() -> None:
    locks = KeyedLock()
    try:
        with locks.hold("x"):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with locks.hold("x"):
        assert len(locks) == 1

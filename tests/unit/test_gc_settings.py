"""The server's garbage-collector settings (caxton._gc)."""

from __future__ import annotations

import gc

from caxton._gc import OLDER, YOUNG, settle_startup, tune_for_messages


def test_tuning_collects_less_often_and_settling_freezes_what_exists() -> None:
    before = gc.get_threshold()
    try:
        tune_for_messages()
        assert gc.get_threshold() == (YOUNG, OLDER, OLDER)
        assert before[0] < YOUNG
        settle_startup()
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()  # cycles are still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)

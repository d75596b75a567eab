"""The conversation chart of ``caxton conversations show``."""

from __future__ import annotations

from typing import Any

from caxton.cli._chart import lifelines, render


def message(mid: str, sender: str, receivers: list[str], perf: str, ms: int) -> dict[str, Any]:
    return {"message_id": mid, "sender": sender, "receiver": receivers, "performative": perf,
            "timestamp": f"2026-11-23T10:00:00.{ms:03d}000Z"}


CONV: dict[str, Any] = {
    "conversation_id": "c", "initiator": "_client-ab12", "participants": ["s1", "s2"],
    "messages": [
        message("1", "_client-ab12", ["s1", "s2"], "cfp", 0),
        message("2", "s1", ["_client-ab12"], "propose", 4),
        message("3", "s2", ["_client-ab12"], "inform", 6),
        message("4", "_client-ab12", ["s1"], "accept-proposal", 10),
    ],
    "events": [
        {"at": "2026-11-23T10:00:00.006000Z", "kind": "violation", "party": "s2",
         "message_id": "3", "detail": "not in the protocol"},
        {"at": "2026-11-23T10:00:05.000000Z", "kind": "timeout", "party": "s2",
         "message_id": None, "detail": "s2 did not answer"},
    ],
}


def test_lifelines_start_with_the_initiator_in_order_of_appearance() -> None:
    assert lifelines(CONV) == ["_client-ab12", "s1", "s2"]


def test_chart_draws_arrows_times_and_marks_held_messages() -> None:
    lines = render(CONV, width=120)
    assert lines[0].split() == ["client", "s1", "s2"]
    cfp = lines[2]
    assert cfp.startswith("+0.000s") and "● cfp" in cfp.replace("─", " ").replace("  ", " ")
    assert cfp.count("▶") == 2
    propose = lines[3]
    assert propose.startswith("+0.004s") and "◀" in propose and "propose" in propose
    inform = lines[4]
    assert "✗" in inform and "violation: not in the protocol" in inform
    accept = lines[5]
    assert accept.startswith("+0.010s") and accept.endswith("accept-proposal")
    assert "▶" in accept  # the long label went after the arrow, not over its head
    assert lines[6].startswith("+5.000s") and "timeout: s2 did not answer" in lines[6]


def test_chart_falls_back_to_one_line_per_message_when_narrow() -> None:
    lines = render(CONV, width=30)
    assert lines[0] == "+0.000s   client ─cfp─▶ s1, s2"
    assert len(lines) == 5


def test_chart_of_an_empty_conversation() -> None:
    assert render({"messages": []}) == ["(no messages)"]


def test_an_event_about_a_message_not_drawn_gets_a_row_of_its_own() -> None:
    """A long conversation lists its first messages only; a loop cut after them still shows."""
    cut = {"at": "2026-11-23T10:00:07.000000Z", "kind": "loop", "party": "s1",
           "message_id": "1001", "detail": "cut: 1001 answers in a row"}
    lines = render({**CONV, "events": [*CONV["events"], cut]}, width=120)
    assert lines[-1].startswith("+7.000s") and "loop: cut: 1001 answers in a row" in lines[-1]

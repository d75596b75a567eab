"""Unit tests for caxton.telemetry.logging: every kind of output becomes one JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import logging, threading, warnings
    import structlog
    from caxton.telemetry.logging import configure_logging

    configure_logging("info", "json")
    structlog.get_logger("caxton.test").info("ours", n=1)
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    logging.getLogger("uvicorn.error").info("below the libraries' level: dropped")
    try:
        1 / 0
    except ZeroDivisionError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    thread = threading.Thread(target=lambda: {}["missing"], name="worker-x")
    thread.start()
    thread.join()
    warnings.warn("something is deprecated", DeprecationWarning, stacklevel=1)
    raise RuntimeError("escaped main")
""")


def test_logs_tracebacks_and_warnings_are_json_lines() -> None:
    result = subprocess.run([sys.executable, "-W", "always", "-c", SCRIPT], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    events = [json.loads(line) for line in lines]  # raises on any line that is not JSON
    by_event = {e["event"]: e for e in events}
    assert by_event["ours"]["n"] == 1
    assert by_event["Invalid HTTP request received."]["logger"] == "uvicorn.error"
    assert "below the libraries' level: dropped" not in by_event
    asgi = by_event["Exception in ASGI application"]
    assert asgi["level"] == "error" and "ZeroDivisionError" in asgi["exception"]
    thread = by_event["uncaught exception in a thread"]
    assert thread["thread"] == "worker-x" and "KeyError: 'missing'" in thread["exception"]
    warned = [e for e in events if e.get("logger") == "py.warnings"]
    assert len(warned) == 1 and "something is deprecated" in warned[0]["event"]
    assert "RuntimeError: escaped main" in by_event["uncaught exception"]["exception"]
    assert len(events) == 6

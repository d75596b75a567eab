"""Structured logs: JSON lines when not on a terminal, readable when on one.

Everything the server process writes to standard error goes through here, so that a log
collector reading JSON lines never meets a bare line or a multi-line traceback: Caxton's own
structlog events, the standard ``logging`` records of the libraries (uvicorn, grpc, asyncio),
Python warnings, and exceptions that escape a thread or the process (tracebacks become the
``exception`` field of one line).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import MutableMapping
from types import TracebackType
from typing import Any

import structlog
from opentelemetry import trace


def add_trace_ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Stamp the current OpenTelemetry span's ids on a log event, so logs and traces join up.

    Spans are current only while tracing is on (an API send, an agent's handler run); the
    lookup is a context-variable read, cheap enough to do for every event.
    """
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


def configure_logging(level: str = "info", fmt: str = "auto") -> None:
    numeric = getattr(logging, level.upper(), logging.INFO)
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Standard logging records (uvicorn, grpc, asyncio, warnings) are rendered the same way.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer],
    ))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(max(numeric, logging.WARNING))  # libraries' info lines are noise here
    logging.captureWarnings(True)
    _route_uncaught_exceptions()


def _route_uncaught_exceptions() -> None:
    """Exceptions nobody caught are logged as one event each instead of printed raw."""
    log = structlog.get_logger("caxton")

    def on_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        log.error("uncaught exception in a thread",
                  thread=args.thread.name if args.thread is not None else None,
                  exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    def on_process(kind: type[BaseException], value: BaseException,
                   tb: TracebackType | None) -> None:
        log.critical("uncaught exception", exc_info=(kind, value, tb))

    def on_unraisable(unraisable: Any) -> None:
        log.error("exception ignored", context=repr(unraisable.object)[:200],
                  message=unraisable.err_msg,
                  exc_info=(unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback))

    threading.excepthook = on_thread
    sys.excepthook = on_process
    sys.unraisablehook = on_unraisable

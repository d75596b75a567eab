"""Shared helpers for the benchmarks in bench/ (not a benchmark itself).

Every benchmark is a plain script: ``python bench/NAME.py [--quick]``. They import this module
as ``_common`` (the script's own folder is first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WAT_DIR = ROOT / "examples" / "agents" / "wat"

# The targets the project set itself; printed beside the figures.
TARGETS = {
    "route_p50_us": 100.0,
    "route_p99_us": 1000.0,
    "start_p50_ms": 10.0,
    "agent_rss_mb": 1.0,
}


# -- inputs ------------------------------------------------------------------------------------
# A WASM sink: takes every message and answers nothing. SINK also takes them in batches
# (handle_batch, docs/agent-abi.md): with no host calls it need not write the current index.
SINK_SINGLE = b"""(module (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32) (i32.const 0)))"""
SINK = SINK_SINGLE[:-1] + b"""
  (func (export "handle_batch") (param i32 i32) (result i32) (i32.const 0)))"""


def module_bytes(name: str) -> bytes:
    """The built example module ``examples/agents/wat/NAME.wasm``, building it when missing."""
    path = WAT_DIR / f"{name}.wasm"
    src = WAT_DIR / f"{name}.wat"
    if not path.exists() or (src.exists() and src.stat().st_mtime > path.stat().st_mtime):
        subprocess.run(
            ["bash", str(ROOT / "scripts" / "build-examples.sh")],
            check=True, env={**os.environ, "PYTHON": sys.executable},
            stdout=subprocess.DEVNULL,
        )
    return path.read_bytes()


def with_custom_section(wasm: bytes, tag: str) -> bytes:
    """``wasm`` plus a custom section carrying ``tag``: same code, different hash.

    Lets a benchmark deploy "new" modules (compile-cache misses) without new code.
    """
    name = b"caxton-bench"
    payload = _leb128(len(name)) + name + tag.encode()
    return wasm + b"\x00" + _leb128(len(payload)) + payload


def _leb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def server_process() -> None:
    """Make this process run Caxton in process as ``caxton server start`` runs it: warnings-only
    logs, and the server's garbage-collector settings (``caxton._gc``)."""
    from caxton._gc import tune_for_messages  # noqa: PLC0415

    quiet_logs()
    tune_for_messages()


def quiet_logs() -> None:
    """Caxton logs every agent state change at info; benchmarks only want warnings."""
    from caxton.telemetry.logging import configure_logging  # noqa: PLC0415

    configure_logging("warning", "json")


# -- statistics --------------------------------------------------------------------------------
def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def summary(values: Iterable[float]) -> dict[str, float]:
    data = sorted(values)
    return {
        "n": len(data),
        "p50": percentile(data, 50),
        "p90": percentile(data, 90),
        "p99": percentile(data, 99),
        "min": data[0] if data else math.nan,
        "max": data[-1] if data else math.nan,
        "mean": sum(data) / len(data) if data else math.nan,
    }


def ratio(a: float, b: float) -> str:
    if not b or math.isnan(a) or math.isnan(b):
        return "-"
    r = a / b
    if r >= 10:
        return f"{r:.1f}x"
    if r >= 0.1:
        return f"{r:.2f}x"
    return f"1/{1 / r:,.0f}" if r else "0"


# -- output ------------------------------------------------------------------------------------
def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a few-second smoke run")
    return p


def header(title: str, args: argparse.Namespace) -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"== {title} ==")
    print(f"   {_dt.datetime.now().astimezone().isoformat(timespec='seconds')}  "
          f"python {platform.python_version()}  {os.cpu_count()} cpus  load average {load}  "
          f"{'QUICK (smoke run, numbers are rough)' if args.quick else 'full run'}")
    print("   (latency tails on a 2-core machine move with whatever else runs: compare the "
          "peers of the same run)")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain aligned text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                        strict=True)]
        return "  ".join(parts)

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))
    print()


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def verdict(value: float, target: float, *, at_least: bool = False) -> str:
    """'MEETS' when ``value`` is under ``target`` (or, ``at_least``, at or above it), else
    'MISSES' and how far off it is."""
    if math.isnan(value):
        return "-"
    if at_least:
        return "MEETS" if value >= target else f"MISSES ({value / target:.2f}x)"
    return "MEETS" if value < target else f"MISSES ({value / target:.1f}x)"


# -- process -----------------------------------------------------------------------------------
def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/status (VmRSS)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


# -- a real server -----------------------------------------------------------------------------
def caxton_exe() -> str:
    """The ``caxton`` command next to this Python (the virtualenv's), else the one on PATH."""
    exe = Path(sys.executable).with_name("caxton")
    return str(exe) if exe.exists() else (shutil.which("caxton") or "caxton")


class CaxtonServer:
    """``caxton server start`` as a subprocess on 127.0.0.1 with free ports (REST and gRPC).

    Authentication is on unless ``env`` sets ``CAXTON_AUTH=off``: the server writes an admin
    API key to ``<data-dir>/admin.token`` before it announces itself, and ``token`` holds it
    (empty when auth is off). ``headers`` and ``http()`` carry it; pass ``token`` to
    ``CaxtonClient`` (gRPC).
    """

    def __init__(self, data_dir: str | Path, *, env: Mapping[str, str] | None = None,
                 args: Sequence[str] = (), workers: int = 2, timeout: float = 60.0) -> None:
        self.data_dir = Path(data_dir)
        self.proc = subprocess.Popen(
            [caxton_exe(), "server", "start", "--data-dir", str(self.data_dir),
             "--host", "127.0.0.1", "--port", "0", "--grpc-port", "0",
             "--workers", str(workers), "--log-level", "warning", *args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, **(env or {})})
        lines: list[str] = []

        def read() -> None:
            assert self.proc.stdout is not None
            lines.extend(self.proc.stdout.readline() for _ in range(2))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if len(lines) < 2 or not lines[0].startswith("caxton listening on http://127.0.0.1:") \
                or not lines[1].startswith("caxton grpc listening on 127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"server did not start within {timeout:g}s: {lines}")
        self.url = lines[0].split()[-1]
        self.target = lines[1].split()[-1]
        token_file = self.data_dir / "admin.token"
        self.token = token_file.read_text().strip() if token_file.exists() else ""

    @property
    def headers(self) -> dict[str, str]:
        """The admin key as a request header (none when auth is off)."""
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    def http(self, **kwargs: Any) -> Any:
        """A keep-alive ``httpx.Client`` for this server that sends the admin key."""
        import httpx  # noqa: PLC0415 - only the benchmarks that talk HTTP need it

        kwargs.setdefault("timeout", 30.0)
        return httpx.Client(base_url=self.url, headers=self.headers, **kwargs)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self) -> CaxtonServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

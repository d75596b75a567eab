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
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

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


def verdict(value: float, target: float) -> str:
    """'ok' when ``value`` is under ``target``, else how far over it is."""
    if math.isnan(value):
        return "-"
    return "MEETS" if value < target else f"MISSES ({value / target:.1f}x)"


# -- process -----------------------------------------------------------------------------------
def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/status (VmRSS)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")

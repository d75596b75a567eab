"""The benchmarks as a smoke test: each script's ``--quick`` run must finish and print its table.

Not a timed test: the figures are not checked, only that the scripts still run against the
current API and print what they promise. ``bench/peers.py`` installs the peers' virtualenvs on
first use (``scripts/test.sh`` does it beforehand, so this run only measures).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


def run(script: str, *args: str, timeout: float) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, str(BENCH / script), "--quick", *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
                          check=False)
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout[-3000:]}\n" \
                                 f"{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first run on a machine installs the peers' virtualenvs
def test_peers_quick_prints_one_table_with_every_peer() -> None:
    out = run("peers.py", timeout=840)
    assert "== Caxton against the Python actor peers ==" in out
    lines = out.splitlines()
    head = next(line for line in lines if line.startswith("workload "))
    for column in ("caxton", "target", "pykka", "thespian", "spade", "caxton/pykka",
                   "caxton/thespian", "caxton/spade"):
        assert column in head.split(), (column, head)
    for row in ("W2 one-way to one agent, msgs/s", "W1 ping-pong p50, us",
                "W1 ping-pong p99, us", "agent to agent (client->A->B->client), msgs/s",
                "REST send-and-wait p50, ms", "gRPC send-and-wait, 64 in flight, req/s"):
        line = next((x for x in lines if x.startswith(row)), "")
        assert line, f"no row {row!r} in:\n{out}"
        assert " MEETS" in line or " MISSES" in line, line  # Caxton measured, target judged
    # The Python peers are installed by scripts/test.sh (or on first use): none may be skipped.
    # JADE needs its jars and java; without them its column is replaced by a skip line.
    for peer in ("pykka", "thespian", "spade"):
        assert not any(x.startswith(f"{peer}: skipped") for x in lines), out
    assert "jade" in head.split() or any(x.startswith("jade: skipped") for x in lines), out


# The other benchmarks whose quick run is short (peers.py covers echo_roundtrip's and
# agent_to_agent's in-process paths and grpc_vs_rest's calls already).
@pytest.mark.slow
@pytest.mark.parametrize(("script", "args", "expect"), [
    ("agent_start.py", (), "agent start"),
    ("jwt_verify.py", (), "pyjwt"),
    ("echo_roundtrip.py", ("--no-rest",), "caxton in-process route -> reply"),
    ("message_path.py", (), "one core's ceiling at this cost"),
    ("cores.py", (), "2 CPUs msgs/s"),
])
def test_quick_benchmark_runs(script: str, args: tuple[str, ...], expect: str) -> None:
    out = run(script, *args, timeout=110)
    assert expect in out, out

"""Caxton against its peers (pykka, Thespian, SPADE, JADE): the same workloads, in one run.

Workloads, identical for every system (bench/peer_workloads/_workload.py says what each peer
does; every loop is bounded in count and in time):
  * W2 one-way: N messages of about 100 bytes to one sink, until the sink has handled them all;
    msgs/s. Caxton: a WASM sink agent, messages through ``Router.route_batch`` (batches of
    100), until the agent's handled count reaches N *and* the store writer has committed
    (durability "full");
  * W1 ping-pong: sequential round trips to an echo, p50 and p99 in us. Caxton: a request
    routed to the WAT echo agent, until its inform wakes the sender through a ClientInbox
    (``echo_roundtrip.caxton_in_process``, durability "full");
  * agent to agent: client -> A -> B -> client with 256 requests in flight, msgs/s counting the
    three hops. Caxton: WAT ``forwarder`` -> ``echo`` (``agent_to_agent.pipeline``, durability
    "full", until the last reply);
  * Caxton only: send-and-wait over REST (``POST /api/v1/messages?wait=true``) and gRPC
    (``SendAndWait``) against a real ``caxton server start`` (durability "full", auth on):
    sequential p50 and requests/s with 64 in flight (``grpc_vs_rest``'s calls).
Each peer is installed on first use into its own virtualenv (``$CAXTON_BENCH_VENVS``, else
``~/.cache/caxton-bench/venvs/<peer>``; pinned versions) and runs its workload script there as
a subprocess that prints its figures as JSON. JADE 4.6.5 (Java) runs too when its jars are found
(``$CAXTON_JADE_DIR``, else ``peers/jade`` or ``shared/peers/jade`` beside the checkout) and
``java`` is installed; otherwise its column says why it was skipped. Figures are medians over
the rounds.

    python bench/peers.py [--quick] [--rounds R] [--only caxton,pykka,...] [--install-only]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import _common as c

WORKLOADS = Path(__file__).resolve().parent / "peer_workloads"
# What each peer's virtualenv gets (pinned). SQLAlchemy 2.1 (under SPADE's XMPP server) no
# longer pulls in greenlet, which its asyncio extension needs.
PEERS: dict[str, tuple[str, ...]] = {
    "pykka": ("pykka==4.5.0",),
    "thespian": ("thespian==4.0.1",),
    "spade": ("spade==4.1.4", "greenlet==3.5.6"),
}
# Issue 14's targets (2-core machine, every message handled by a WASM agent, durability on).
TARGETS: dict[str, tuple[float, bool]] = {  # figure -> (target, at_least)
    "oneway": (150_000.0, True),
    "a2a": (100_000.0, True),
    "p50": (45.0, False),
    "p99": (500.0, False),
    "api_p50": (1.0, False),
    "api_rate": (10_000.0, True),
}
SINK = c.SINK  # takes batches (handle_batch), as agents built with an SDK do
PAD = "x" * 80  # the one-way body {"n": i, "pad": PAD} is about 100 bytes, as the peers'
API_IN_FLIGHT = 64
JADE_JARS = ("jade-4.6.5.jar", "commons-codec-1.18.0.jar")
SYSTEMS = ("caxton", *PEERS, "jade")


class PeerSkipError(Exception):
    """A system could not be measured; the message says why (printed in the table)."""


# -- the peers' virtualenvs --------------------------------------------------------------------
def venv_root() -> Path:
    explicit = os.environ.get("CAXTON_BENCH_VENVS")
    return Path(explicit) if explicit else Path.home() / ".cache" / "caxton-bench" / "venvs"


def peer_python(name: str, *, log: Callable[[str], None] = print) -> Path:
    """The Python of ``name``'s virtualenv, created and filled on first use (pinned versions)."""
    folder = venv_root() / name
    python = folder / "bin" / "python"
    stamp = folder / ".caxton-bench-requirements"
    wanted = "\n".join(PEERS[name])
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    log(f"peers: installing {' '.join(PEERS[name])} into {folder} (first use) ...")
    started = time.monotonic()
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True,
                       capture_output=True, timeout=300)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", *PEERS[name]], check=True,
                       capture_output=True, timeout=900)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        raise PeerSkipError(f"could not install {' '.join(PEERS[name])}: "
                      f"{detail.decode(errors='replace').strip()[-300:] or exc}") from exc
    stamp.write_text(wanted)
    log(f"peers: {name} installed in {time.monotonic() - started:.0f}s")
    return python


def jade_command() -> list[str]:
    """``java`` running JadePeer.java against JADE 4.6.5: the jars are in ``$CAXTON_JADE_DIR``,
    else in ``peers/jade`` or ``shared/peers/jade`` beside the checkout or a folder above it
    (where scripts/install-test-tools.sh looks for them too)."""
    java = shutil.which("java")
    if java is None:
        raise PeerSkipError("no java on PATH (scripts/install-test-tools.sh installs JDK 17)")
    explicit = os.environ.get("CAXTON_JADE_DIR")
    candidates = ([Path(explicit)] if explicit else
                  [up / sub / "peers" / "jade" for up in c.ROOT.parents for sub in ("", "shared")])
    for folder in candidates:
        if all((folder / jar).is_file() for jar in JADE_JARS):
            classpath = os.pathsep.join(str(folder.resolve() / jar) for jar in JADE_JARS)
            return [java, "-cp", classpath, str(WORKLOADS / "JadePeer.java"),
                    "--version", "4.6.5"]
    raise PeerSkipError(f"JADE 4.6.5 not found ({' and '.join(JADE_JARS)} in $CAXTON_JADE_DIR, "
                  "peers/jade or shared/peers/jade beside the checkout)")


def run_peer(name: str, sizes: dict[str, int], seconds: float, rounds: int) -> dict[str, Any]:
    command = jade_command() if name == "jade" else [
        str(peer_python(name)), str(WORKLOADS / f"{name}_peer.py")]
    argv = [*command, "--oneway", str(sizes["oneway"]),
            "--pingpong", str(sizes["pingpong"]), "--a2a", str(sizes["a2a"]),
            "--window", "256", "--rounds", str(rounds), "--seconds", str(seconds)]
    # bound: three workloads per round at most ``seconds`` each, plus start-up and drain
    limit = rounds * 3 * (seconds + 30) + 120
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=limit,
                              cwd=WORKLOADS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PeerSkipError(f"no result within {limit:.0f}s") from exc
    lines = done.stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    except ValueError:
        result = {}
    if done.returncode != 0 or not result or "error" in result:
        raise PeerSkipError(f"exit {done.returncode}: "
                      f"{result.get('error') or done.stderr.strip()[-300:]}")
    return result


# -- Caxton ------------------------------------------------------------------------------------
def caxton_oneway(n: int, batch: int = 100) -> float:
    """W2: msgs/s to a WASM sink through ``route_batch``, until handled and committed."""
    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="caxton-bench-peers-") as tmp:
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability="full", workers=2,
                                       mailbox_capacity=max(10_000, 2 * n)))
        try:
            rt.host.deploy("sink", SINK, "1.0", ResourceLimits())
            stats = rt.host.get("sink").stats
            route_batch = rt.router.route_batch

            def send(count: int) -> float:
                base = stats.handled
                t0 = time.perf_counter()
                for start in range(0, count, batch):
                    route_batch([AclMessage(performative=Performative.INFORM, sender="client",
                                            receiver=("sink",), content={"n": i, "pad": PAD})
                                 for i in range(start, min(count, start + batch))])
                deadline = time.monotonic() + 120
                while stats.handled - base < count:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"sink handled {stats.handled - base} of {count}")
                    time.sleep(0.0005)
                rt.store.writer.barrier().result(120)
                return count / (time.perf_counter() - t0)

            send(min(n, 1000))  # warm-up
            rate = send(n)
            if stats.failed:
                raise RuntimeError(f"the sink failed {stats.failed} messages")
            return rate
        finally:
            rt.close()


def caxton_pingpong(n: int) -> tuple[float, float]:
    """W1: p50, p99 (us) of a request to echo until its inform wakes the sender."""
    import echo_roundtrip  # noqa: PLC0415

    routed, _, _ = echo_roundtrip.caxton_in_process(c.module_bytes("echo"), n, max(50, n // 20),
                                                    durability="full")
    s = c.summary(routed)
    return s["p50"] / 1e3, s["p99"] / 1e3


def caxton_a2a(requests: int) -> float:
    """Agent to agent: msgs/s (3 routed per request) through forwarder -> echo."""
    import agent_to_agent  # noqa: PLC0415

    r = agent_to_agent.pipeline(c.module_bytes("echo"), c.module_bytes("forwarder"), "full",
                                requests, 256, 2)
    return r["routed"] / r["replied_s"]


def caxton_api(n: int, total: int, rounds: int) -> dict[str, list[float]]:
    """REST and gRPC send-and-wait: sequential p50 (ms) and req/s with 64 in flight."""
    import grpc  # noqa: PLC0415

    import grpc_vs_rest as g  # noqa: PLC0415
    from caxton.api.grpc._generated import messages_pb2_grpc  # noqa: PLC0415
    from caxton.client import CaxtonClient  # noqa: PLC0415

    out: dict[str, list[float]] = {k: [] for k in ("rest_p50", "rest_rate", "grpc_p50",
                                                    "grpc_rate")}
    clients: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="caxton-bench-peers-api-") as tmp:
        server = c.CaxtonServer(tmp, env={"CAXTON_DURABILITY": "full"})
        try:
            with CaxtonClient(server.target, token=server.token) as client, \
                    grpc.insecure_channel(server.target) as channel, server.http() as http:
                client.deploy("echo", c.module_bytes("echo"))
                stub = messages_pb2_grpc.MessageServiceStub(channel)

                def rest_per_thread() -> Callable[[int], None]:
                    own = server.http()
                    clients.append(own)
                    return g.rest_call(own)

                for _ in range(rounds):
                    for kind, call, make in (
                            ("rest", g.rest_call(http), rest_per_thread),
                            ("grpc", g.stub_call(stub, server.token),
                             lambda: g.stub_call(stub, server.token))):
                        lat = c.summary(g.sequential(call, n, max(20, n // 10)))
                        out[f"{kind}_p50"].append(lat["p50"] / 1e6)
                        out[f"{kind}_rate"].append(g.concurrent(make, total, API_IN_FLIGHT))
        finally:
            for own in clients:
                own.close()
            server.stop()
    return out


def run_caxton(sizes: dict[str, int], rounds: int, quick: bool) -> dict[str, list[float]]:
    fig: dict[str, list[float]] = {"oneway": [], "p50": [], "p99": [], "a2a": []}
    for _ in range(rounds):
        fig["oneway"].append(caxton_oneway(sizes["oneway"]))
        p50, p99 = caxton_pingpong(sizes["pingpong"])
        fig["p50"].append(p50)
        fig["p99"].append(p99)
        fig["a2a"].append(caxton_a2a(sizes["a2a"]))
    fig.update(caxton_api(100 if quick else 1000, 640 if quick else 6400, rounds))
    return fig


# -- the table ---------------------------------------------------------------------------------
ROWS: tuple[tuple[str, str, str, str], ...] = (
    # label, Caxton's figure, the peers' JSON key, the target key
    ("W2 one-way to one agent, msgs/s", "oneway", "oneway_msgs_s", "oneway"),
    ("W1 ping-pong p50, us", "p50", "pingpong_p50_us", "p50"),
    ("W1 ping-pong p99, us", "p99", "pingpong_p99_us", "p99"),
    ("agent to agent (client->A->B->client), msgs/s", "a2a", "a2a_msgs_s", "a2a"),
    ("REST send-and-wait p50, ms", "rest_p50", "", "api_p50"),
    (f"REST send-and-wait, {API_IN_FLIGHT} in flight, req/s", "rest_rate", "", "api_rate"),
    ("gRPC send-and-wait p50, ms", "grpc_p50", "", "api_p50"),
    (f"gRPC send-and-wait, {API_IN_FLIGHT} in flight, req/s", "grpc_rate", "", "api_rate"),
)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(ours: dict[str, list[float]] | str, peers: dict[str, dict[str, Any] | str]
                ) -> None:
    names = list(peers)
    headers = ["workload", "caxton", "target", "caxton vs target", *names,
               *[f"caxton/{n}" for n in names]]
    rows: list[list[object]] = []
    for label, key, peer_key, target_key in ROWS:
        mine = median(ours.get(key, [])) if isinstance(ours, dict) else float("nan")
        target, at_least = TARGETS[target_key]
        figures = [median(p.get(peer_key, [])) if isinstance(p, dict) and peer_key
                   else float("nan") for p in peers.values()]
        rows.append([label, mine, f"{'>=' if at_least else '<='} {target:,g}",
                     c.verdict(mine, target, at_least=at_least), *figures,
                     *[c.ratio(mine, f) for f in figures]])
    c.table(headers, rows)
    print("Ratios are Caxton's figure over the peer's: above 1 is better for msgs/s and req/s, "
          "below 1 is better for latencies. Peers have no REST/gRPC rows ('-').")
    if isinstance(ours, str):
        print(f"caxton: FAILED: {ours}")
    for name, p in peers.items():
        if isinstance(p, str):
            print(f"{name}: skipped: {p}")
        else:
            print(f"{name} {p['version']}: {'; '.join(p['notes']) or 'all workloads complete'}")


def main() -> None:
    p = c.parser(__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, help="rounds per system (medians are printed)")
    p.add_argument("--only", help=f"comma-separated systems to run ({','.join(SYSTEMS)})")
    p.add_argument("--install-only", action="store_true",
                   help="create the peers' virtualenvs (if missing) and exit")
    args = p.parse_args()
    if args.install_only:
        for name in PEERS:
            print(f"{name}: {peer_python(name)}")
        return
    only = set(args.only.split(",")) if args.only else set(SYSTEMS)
    rounds = args.rounds or (1 if args.quick else 3)
    sizes = ({"oneway": 3000, "pingpong": 300, "a2a": 600} if args.quick
             else {"oneway": 50_000, "pingpong": 5000, "a2a": 20_000})
    seconds = 4.0 if args.quick else 20.0
    c.server_process()
    c.header("Caxton against the Python actor peers", args)
    print(f"   one-way {sizes['oneway']:,} messages, ping-pong {sizes['pingpong']:,} round "
          f"trips, agent to agent {sizes['a2a']:,} requests (256 in flight), {rounds} round(s), "
          f"peers bounded at {seconds:g}s per workload; durability full")
    t_start = time.perf_counter()
    ours: dict[str, list[float]] | str = {}
    if "caxton" in only:
        try:
            ours = run_caxton(sizes, rounds, args.quick)
        except Exception as exc:  # still print the peers' figures
            ours = f"{type(exc).__name__}: {exc}"
    peers: dict[str, dict[str, Any] | str] = {}
    for name in SYSTEMS[1:]:
        if name not in only:
            continue
        try:
            peers[name] = run_peer(name, sizes, seconds, rounds)
        except PeerSkipError as exc:
            peers[name] = str(exc)
    print()
    print_table(ours, peers)
    print(f"total {time.perf_counter() - t_start:.1f}s")
    if isinstance(ours, str):
        sys.exit(1)


if __name__ == "__main__":
    main()

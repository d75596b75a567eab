"""Authentication: what checking the caller costs per request, side by side in one run.

Three real `caxton server start` subprocesses run at once (durability normal, 2 workers, the
echo agent deployed on each): two with ``CAXTON_AUTH=off`` (every caller is an admin, nothing is
checked) and one with authentication on (the default). The second auth-off server is an A/A
control: two servers that differ in nothing differ by this much, so an auth cost inside that
band is noise. A third client of the first auth-off server sends the admin key anyway (the
server ignores it): the cost of carrying a credential, apart from checking it. Against the
server with auth on, each request carries one of:

    (a) the admin API key the server wrote to ``<data-dir>/admin.token``;
    (b) a developer-role API key made with ``POST /api/v1/tokens {"role": "developer"}``;
    (c) an HS256 JWT with ``caxton_role: developer``, when this Caxton has JWT settings
        (``jwt_hs256_secret_file`` in ``caxton.config``); otherwise (c) is listed as skipped.

Non-admin credentials are rate limited per token (200/s, burst 400, by default). That would
refuse a sequential benchmark, so the auth-on server runs with ``CAXTON_TOKEN_RATE_LIMIT`` and
``CAXTON_TOKEN_RATE_BURST`` at 1e6: the bucket is still kept (its cost is measured), it just
never runs dry. Every server gets the same raised per-address limit (it applies with auth off
too, so it is not part of the difference).

Measured, sequential requests (one at a time) with keep-alive clients, one per credential:

    * REST GET /api/v1/agents (httpx);
    * REST POST /api/v1/messages?wait=true to echo (httpx);
    * gRPC AgentService/ListAgents (generated stub; the token as ``authorization`` metadata).

Rounds alternate the credentials (rotating which goes first) so load drifts hit them alike.
Printed: p50/p99 in µs, the auth cost as the difference of medians and as ratios to auth off,
and the per-round difference of medians (median and range). Then, in process, the REST guard
middleware alone around a no-op app (GET, no audit row), which isolates the guard's own work.

``--profile PREFIX`` samples the first auth-off server and the auth-on one with py-spy during
the rounds (``py-spy`` must be on PATH; not a Caxton dependency) and prints server CPU µs per
request by the innermost Caxton function on the stack; the raw samples go to
``PREFIX-off.txt`` and ``PREFIX-on.txt``.

    python bench/auth.py [--quick] [--n N] [--rounds N] [--profile PREFIX]
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
import orjson

import _common as c
from caxton.api.grpc._generated import agents_pb2, agents_pb2_grpc

RAISED_LIMIT = "1000000"  # requests/s and burst: a bucket that never runs dry
OFF = "auth off"
CONTROL = "auth off, 2nd server (A/A)"
CARRIED = "auth off, admin key sent anyway"
ADMIN = "admin API key"
DEVELOPER = "developer API key"
JWT = "HS256 JWT (developer)"
NO_GUARD = "no guard (the app alone)"
GUARD_BLOCKS = 20
OPS = ("REST GET /api/v1/agents", "REST POST /api/v1/messages?wait=true",
       "gRPC ListAgents")


@dataclasses.dataclass
class Credential:
    """One way of calling: a server, a keep-alive HTTP client and a gRPC stub with metadata."""

    name: str
    server: c.CaxtonServer
    token: str
    http: httpx.Client = dataclasses.field(init=False)
    channel: grpc.Channel = dataclasses.field(init=False)
    stub: agents_pb2_grpc.AgentServiceStub = dataclasses.field(init=False)
    metadata: list[tuple[str, str]] | None = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        auth = {"authorization": f"Bearer {self.token}"} if self.token else {}
        self.http = httpx.Client(base_url=self.server.url, headers=auth, timeout=30)
        self.channel = grpc.insecure_channel(self.server.target)
        self.stub = agents_pb2_grpc.AgentServiceStub(self.channel)
        self.metadata = [("authorization", f"Bearer {self.token}")] if self.token else None

    def close(self) -> None:
        self.http.close()
        self.channel.close()

    # -- one request of each kind (raise on a wrong answer: a refused call is not a figure)
    def list_rest(self, _: int) -> None:
        r = self.http.get("/api/v1/agents")
        if r.status_code != 200:
            raise RuntimeError(f"{self.name}: GET /api/v1/agents {r.status_code}: {r.text[:200]}")

    def send_rest(self, i: int) -> None:
        r = self.http.post("/api/v1/messages?wait=true&timeout=5", content=orjson.dumps(
            {"performative": "request", "receiver": ["echo"], "content": {"n": i}}),
            headers={"content-type": "application/json"})
        if r.status_code != 200 or r.json()["reply"]["content"] != {"n": i}:
            raise RuntimeError(f"{self.name}: POST /api/v1/messages {r.status_code}: "
                               f"{r.text[:200]}")

    def list_grpc(self, _: int) -> None:
        answer = self.stub.ListAgents(agents_pb2.ListAgentsRequest(), timeout=30,
                                      metadata=self.metadata)
        if not answer.agents:
            raise RuntimeError(f"{self.name}: ListAgents answered no agents")

    def calls(self) -> dict[str, Callable[[int], None]]:
        return dict(zip(OPS, (self.list_rest, self.send_rest, self.list_grpc), strict=True))


# -- setting up --------------------------------------------------------------------------------
def jwt_setting() -> str | None:
    """The config field that takes an HS256 secret file, if this Caxton has one."""
    from caxton.config import ServerConfig  # noqa: PLC0415

    names = {f.name for f in dataclasses.fields(ServerConfig)}
    return "jwt_hs256_secret_file" if "jwt_hs256_secret_file" in names else None


def hs256_token(secret: bytes) -> str:
    import jwt  # noqa: PLC0415 - pyjwt, a Caxton dependency

    now = int(time.time())
    return jwt.encode({"sub": "bench", "caxton_role": "developer", "iat": now,
                       "exp": now + 3600}, secret, algorithm="HS256")


def deploy_echo(server: c.CaxtonServer, wasm: bytes) -> None:
    r = httpx.post(f"{server.url}/api/v1/agents", headers=server.headers, timeout=60, json={
        "name": "echo", "version": "1.0", "module_base64": base64.b64encode(wasm).decode()})
    if r.status_code not in (200, 201):
        raise RuntimeError(f"deploy failed {r.status_code}: {r.text[:200]}")


def developer_key(server: c.CaxtonServer) -> str:
    r = httpx.post(f"{server.url}/api/v1/tokens", headers=server.headers, timeout=30,
                   json={"role": "developer", "name": "bench-auth"})
    if r.status_code != 201:
        raise RuntimeError(f"POST /api/v1/tokens {r.status_code}: {r.text[:200]}")
    return str(r.json()["token"])


def start_servers(tmp: Path) -> tuple[list[c.CaxtonServer], str | None, str]:
    """([auth off, auth off (control), auth on], the HS256 secret file or None, why JWT is
    skipped if it is)."""
    common = {"CAXTON_DURABILITY": "normal", "CAXTON_ADDRESS_RATE_LIMIT": RAISED_LIMIT,
              "CAXTON_ADDRESS_RATE_BURST": RAISED_LIMIT}
    on_env = {**common, "CAXTON_TOKEN_RATE_LIMIT": RAISED_LIMIT,
              "CAXTON_TOKEN_RATE_BURST": RAISED_LIMIT}
    secret_file: str | None = None
    skipped = ""
    setting = jwt_setting()
    if setting is None:
        skipped = ("this Caxton has no JWT settings (no jwt_* field in caxton.config), so "
                   "the server cannot verify a JWT")
    else:
        path = tmp / "jwt.secret"
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
        secret_file = str(path)
        on_env[f"CAXTON_{setting.upper()}"] = secret_file
    servers: list[c.CaxtonServer] = []
    try:
        for name, env in (("off", {**common, "CAXTON_AUTH": "off"}),
                          ("off2", {**common, "CAXTON_AUTH": "off"}), ("on", on_env)):
            servers.append(c.CaxtonServer(tmp / name, env=env))
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers, secret_file, skipped


def credentials(off: c.CaxtonServer, control: c.CaxtonServer, on: c.CaxtonServer,
                secret_file: str | None) -> tuple[list[Credential], str]:
    if not on.token:
        raise RuntimeError("the auth-on server wrote no admin.token")
    creds = [Credential(OFF, off, ""), Credential(CONTROL, control, ""),
             Credential(CARRIED, off, on.token), Credential(ADMIN, on, on.token),
             Credential(DEVELOPER, on, developer_key(on))]
    if secret_file is None:
        return creds, ""
    jwt_cred = Credential(JWT, on, hs256_token(Path(secret_file).read_bytes()))
    try:
        for call in jwt_cred.calls().values():
            call(0)
    except (RuntimeError, grpc.RpcError) as exc:
        jwt_cred.close()
        return creds, f"the server has JWT settings but refused the HS256 JWT: {exc}"
    return [*creds, jwt_cred], ""


# -- measuring ---------------------------------------------------------------------------------
Samples = dict[str, dict[str, list[float]]]  # op -> credential -> ns


def measure(creds: list[Credential], n: int, rounds: int, deadline: float
            ) -> tuple[Samples, Samples]:
    """All samples, and each round's median, per op and credential."""
    samples: Samples = {op: {cr.name: [] for cr in creds} for op in OPS}
    medians: Samples = {op: {cr.name: [] for cr in creds} for op in OPS}
    block = max(1, n // rounds)
    clock = time.perf_counter_ns
    i = 0
    for r in range(rounds):
        order = creds[r % len(creds):] + creds[:r % len(creds)]
        for op in OPS:
            if time.monotonic() > deadline:
                return samples, medians
            for cred in order:
                call = cred.calls()[op]
                out: list[float] = []
                for _ in range(block):
                    i += 1
                    t0 = clock()
                    call(i)
                    out.append(clock() - t0)
                samples[op][cred.name].extend(out)
                medians[op][cred.name].append(c.summary(out)["p50"])
    return samples, medians


def warm(creds: list[Credential], count: int) -> None:
    for cred in creds:
        for call in cred.calls().values():
            for i in range(count):
                call(i)


# -- the guard alone, in process ---------------------------------------------------------------
def guard_alone(n: int) -> dict[str, list[list[float]]]:
    """``RestGuard`` around a no-op ASGI app, GET /api/v1/agents: ns per request, in
    GUARD_BLOCKS interleaved blocks per variant."""
    from caxton.api.rest.guard import BrowserPolicy, RestGuard  # noqa: PLC0415
    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.security.authenticator import Authenticator  # noqa: PLC0415
    from caxton.security.rate_limit import (  # noqa: PLC0415
        Limits,
        Rate,
        RateLimiter,
    )
    from caxton.server import Runtime  # noqa: PLC0415

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: Any) -> None:
        return None

    c.quiet_logs()
    with tempfile.TemporaryDirectory(prefix="caxton-bench-guard-") as tmp:
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability="normal", workers=1))
        try:
            keys = rt.security.keys
            tokens = {OFF: "", ADMIN: keys.create("admin")[1],
                      DEVELOPER: keys.create("developer")[1]}
            raised = Rate(float(RAISED_LIMIT), float(RAISED_LIMIT))

            def guard(enabled: bool) -> RestGuard:
                return RestGuard(app, Authenticator(keys, enabled=enabled),
                                 BrowserPolicy(hosts=frozenset({"localhost"})),
                                 Limits(RateLimiter(raised), RateLimiter(raised),
                                        RateLimiter(Rate(1.0, 20))),
                                 rt.security.audit)

            guards = {OFF: guard(False), ADMIN: guard(True), DEVELOPER: guard(True)}

            def scope(token: str) -> dict[str, Any]:
                headers = [(b"host", b"127.0.0.1:8080"), (b"user-agent", b"python-httpx"),
                           (b"accept", b"*/*"), (b"accept-encoding", b"gzip, deflate"),
                           (b"connection", b"keep-alive")]
                if token:
                    headers.append((b"authorization", f"Bearer {token}".encode()))
                return {"type": "http", "method": "GET", "path": "/api/v1/agents",
                        "headers": headers, "client": ("127.0.0.1", 50000)}

            async def run() -> dict[str, list[list[float]]]:
                blocks: dict[str, list[list[float]]] = {NO_GUARD: []}
                blocks.update({name: [] for name in guards})
                clock = time.perf_counter_ns
                scopes = {name: scope(token) for name, token in tokens.items()}
                for _ in range(GUARD_BLOCKS):  # interleaved blocks, as end to end
                    out: list[float] = []
                    for _ in range(n // GUARD_BLOCKS):
                        t0 = clock()
                        await app(scopes[OFF], receive, send)
                        out.append(clock() - t0)
                    blocks[NO_GUARD].append(out)
                    for name, g in guards.items():
                        out = []
                        for _ in range(n // GUARD_BLOCKS):
                            t0 = clock()
                            await g(dict(scopes[name]), receive, send)
                            out.append(clock() - t0)
                        blocks[name].append(out)
                return blocks

            return asyncio.run(run())
        finally:
            rt.close()


# -- profiling ---------------------------------------------------------------------------------
class Profiler:
    """py-spy attached to a server for the measured rounds; raw (collapsed) stacks of the
    thread holding the GIL only (the server's Python work is serialised by it, and waits drop
    out)."""

    RATE = 1000  # samples per second

    def __init__(self, pid: int, output: str) -> None:
        self.output = output
        self.proc = subprocess.Popen(
            [shutil.which("py-spy") or "py-spy", "record", "--pid", str(pid), "--format", "raw",
             "--rate", str(self.RATE), "--function", "--gil", "--nonblocking", "--output", output],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def by_caxton_function(self) -> Counter[str]:
        """Samples by the innermost frame in Caxton's own code (what it called included)."""
        counts: Counter[str] = Counter()
        if not os.path.exists(self.output):
            return counts
        with open(self.output, encoding="utf-8") as f:
            for line in f:
                stack, _, number = line.rstrip("\n").rpartition(" ")
                if not stack or not number.isdigit():
                    continue
                frames = stack.split(";")
                owner = next((fr for fr in reversed(frames) if " (caxton/" in fr), None)
                counts[_short(owner) if owner else "(no Caxton frame: "
                       f"{_short(frames[-1])})"] += int(number)
        return counts


def _short(frame: str) -> str:
    """``KeyBook.authenticate (caxton/security/key_book.py:91)`` -> ``KeyBook.authenticate
    (security/key_book.py)``."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rpartition(":")[0] or where.rstrip(")")
    return f"{name} ({path.removeprefix('caxton/')})"


def print_profile(off: Profiler, on: Profiler, requests_off: int, requests_on: int) -> None:
    counts_off, counts_on = off.by_caxton_function(), on.by_caxton_function()
    if not counts_on:
        print(f"py-spy recorded nothing ({on.proc.stderr.read()[:300] if on.proc.stderr else ''})")
        return
    us = 1e6 / Profiler.RATE

    def per_request(count: int, requests: int) -> float:
        return count * us / requests if requests else float("nan")

    total_off = per_request(sum(counts_off.values()), requests_off)
    total_on = per_request(sum(counts_on.values()), requests_on)
    print(f"py-spy, {Profiler.RATE} samples/s of the GIL holder of each server during the "
          f"rounds ({requests_off:,} requests to the first auth-off server, {requests_on:,} to "
          "auth on). Server CPU µs per request, by the innermost Caxton function on the "
          "stack (the libraries it called included); samples with no Caxton frame go by their "
          "innermost frame. "
          f"All: {total_off:.0f} µs off, {total_on:.0f} µs on.")
    names = sorted(set(counts_off) | set(counts_on),
                   key=lambda k: -max(per_request(counts_on[k], requests_on),
                                      per_request(counts_off[k], requests_off)))
    security = [k for k in names if "(security/" in k or k.endswith("guard.py)")]
    top = names[:15] + [k for k in security if k not in names[:15]]
    c.table(["function (innermost Caxton frame)", "off µs/req", "on µs/req", "on - off"],
            [[k, per_request(counts_off[k], requests_off),
              per_request(counts_on[k], requests_on),
              per_request(counts_on[k], requests_on) - per_request(counts_off[k], requests_off)]
             for k in top])
    print(f"   raw stacks: {off.output}, {on.output}")


# -- main --------------------------------------------------------------------------------------
def main() -> None:
    p = c.parser(__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, help="sequential requests per credential and measurement")
    p.add_argument("--rounds", type=int, help="rounds the requests are split into")
    p.add_argument("--profile", metavar="PREFIX", help="sample both servers with py-spy")
    args = p.parse_args()
    n = args.n or (150 if args.quick else 2000)
    rounds = args.rounds or (3 if args.quick else 10)
    guard_n = 2000 if args.quick else 40000
    deadline_s = 40 if args.quick else 300
    c.header("authentication: the cost per request", args)
    if args.profile and not shutil.which("py-spy"):
        raise SystemExit("--profile needs py-spy on PATH (pip install py-spy)")
    wasm = c.module_bytes("echo")
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="caxton-bench-auth-") as tmp_name:
        tmp = Path(tmp_name)
        servers, secret_file, skipped = start_servers(tmp)
        off, control, on = servers
        creds: list[Credential] = []
        profilers: tuple[Profiler, Profiler] | None = None
        try:
            for server in servers:
                deploy_echo(server, wasm)
            creds, refused = credentials(off, control, on, secret_file)
            skipped = skipped or refused
            warm(creds, max(20, n // 10))
            if args.profile:
                profilers = (Profiler(off.proc.pid, f"{args.profile}-off.txt"),
                             Profiler(on.proc.pid, f"{args.profile}-on.txt"))
                time.sleep(1.0)  # py-spy attaches
            samples, medians = measure(creds, n, rounds, time.monotonic() + deadline_s)
            if profilers is not None:
                for profiler in profilers:
                    profiler.stop()
        finally:
            for cred in creds:
                cred.close()
            for server in servers:
                server.stop()

    print(f"Sequential requests, one keep-alive client per credential, {rounds} rounds "
          f"alternating the credentials; three servers (auth off, off, on), durability=normal, "
          f"token and address rate limits raised to {int(RAISED_LIMIT):,}/s. Microseconds.")
    rows = []
    for op in OPS:
        base = c.summary(samples[op][OFF])
        for cred in creds:
            s = c.summary(samples[op][cred.name])
            deltas = [m - b for m, b in zip(medians[op][cred.name], medians[op][OFF],
                                            strict=True)]
            d = c.summary(deltas)
            rows.append([op if cred.name == OFF else "", cred.name, s["n"], s["p50"] / 1e3,
                         s["p99"] / 1e3, (s["p50"] - base["p50"]) / 1e3,
                         c.ratio(s["p50"], base["p50"]), c.ratio(s["p99"], base["p99"]),
                         "-" if cred.name == OFF else
                         f"{d['p50'] / 1e3:+.0f} [{d['min'] / 1e3:+.0f} .. {d['max'] / 1e3:+.0f}]"])
    c.table(["measurement", "credential", "n", "p50 µs", "p99 µs", "p50 - off µs",
             "p50 / off", "p99 / off", "per-round Δ median µs [range]"], rows)
    if skipped:
        print(f"(c) {JWT}: skipped: {skipped}.")
    print()

    blocks = guard_alone(guard_n)
    guard = {name: c.summary(x for block in b for x in block) for name, b in blocks.items()}
    block_p50 = {name: [c.summary(block)["p50"] for block in b] for name, b in blocks.items()}
    base = guard[OFF]
    print(f"In process: the REST guard middleware around a no-op ASGI app, GET /api/v1/agents "
          f"({guard_n:,} calls each in {GUARD_BLOCKS} interleaved blocks; rate limits raised "
          "as above). Microseconds.")
    rows = []
    for name, s in guard.items():
        d = c.summary(m - b for m, b in zip(block_p50[name], block_p50[OFF], strict=True))
        rows.append([name, s["n"], s["p50"] / 1e3, s["p99"] / 1e3, s["mean"] / 1e3,
                     (s["p50"] - base["p50"]) / 1e3, c.ratio(s["p50"], base["p50"]),
                     "-" if name == OFF else
                     f"{d['p50'] / 1e3:+.2f} [{d['min'] / 1e3:+.2f} .. {d['max'] / 1e3:+.2f}]"])
    c.table(["measurement", "n", "p50 µs", "p99 µs", "mean µs", "p50 - auth off µs",
             "p50 / auth off", "per-block Δ median µs [range]"], rows)
    if profilers is not None:
        served_off = sum(len(samples[op][cr.name]) for op in OPS for cr in creds
                         if cr.server is off)
        served_on = sum(len(samples[op][cr.name]) for op in OPS for cr in creds
                        if cr.server is on)
        print_profile(*profilers, served_off, served_on)
    print(f"total {time.perf_counter() - t_start:.1f}s")


if __name__ == "__main__":
    main()

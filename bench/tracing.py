"""What tracing costs: the in-process echo round trip and agent-to-agent throughput with
OpenTelemetry off (the default) and on, exporting to an OTLP/HTTP receiver on 127.0.0.1.

Peer in the same run: tracing off, which is the figure tracing-on is compared with.

    python bench/tracing.py [--quick]
"""

from __future__ import annotations

import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import _common as c

CLIENT = "_client-bench"


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def run(endpoint: str | None, round_trips: int, burst: int) -> dict[str, float]:
    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.router.local import ClientInbox  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="caxton-bench-trace-") as tmp:
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability="normal", workers=2,
                                       otlp_endpoint=endpoint or ""))
        try:
            rt.host.deploy("echo", c.module_bytes("echo"), "1", ResourceLimits())
            got = threading.Event()
            count = [0]

            def on_reply(_: AclMessage) -> None:
                count[0] += 1
                got.set()

            rt.router.register(CLIENT, ClientInbox(on_reply))

            def request(i: int) -> AclMessage:
                return AclMessage(performative=Performative.REQUEST, sender=CLIENT,
                                  receiver=("echo",), content={"i": i}, conversation_id="t")

            latencies = []
            for i in range(round_trips):
                got.clear()
                started = time.perf_counter()
                msg = request(i)
                with rt.service.tracing.send(msg):  # what an API send does
                    rt.router.route(msg)
                got.wait(10)
                latencies.append(time.perf_counter() - started)
            count[0] = 0
            started = time.perf_counter()
            for i in range(burst):
                msg = request(i)
                with rt.service.tracing.send(msg):
                    rt.router.route(msg)
            deadline = time.monotonic() + 60
            while count[0] < burst and time.monotonic() < deadline:
                time.sleep(0.001)
            elapsed = time.perf_counter() - started
        finally:
            rt.close()
    stats = c.summary(v * 1e6 for v in latencies)
    return {"p50": stats["p50"], "p99": stats["p99"], "rate": 2 * burst / elapsed}


def main() -> None:
    args = c.parser(__doc__.splitlines()[0]).parse_args()
    c.header("tracing off vs on", args)
    c.quiet_logs()
    round_trips, burst = (300, 1500) if args.quick else (2000, 10000)
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        off = run(None, round_trips, burst)
        on = run(f"http://127.0.0.1:{sink.server_address[1]}", round_trips, burst)
    finally:
        sink.shutdown()
        sink.server_close()
    c.table(
        ["measurement", "round trip p50 us", "p99 us", "msgs/s (burst)", "p50 on/off",
         "msgs/s on/off"],
        [["tracing off (the peer)", off["p50"], off["p99"], off["rate"], "1.00x", "1.00x"],
         ["tracing on, OTLP/HTTP to 127.0.0.1", on["p50"], on["p99"], on["rate"],
          c.ratio(on["p50"], off["p50"]), c.ratio(on["rate"], off["rate"])]],
    )
    print("\nWith tracing on, each request makes 3 spans (send, route, handle) and each reply 1 "
          "(route); they are batched to the exporter off the message path.")


if __name__ == "__main__":
    main()

"""caxton server start|status"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from caxton.cli._client import TransportKind, connect
from caxton.cli._output import (
    GrpcServerOpt,
    Output,
    OutputOpt,
    ServerOpt,
    TransportOpt,
    emit_fields,
    emit_json,
)

app = typer.Typer(help="Run and inspect the server.", no_args_is_help=True)


@app.command()
def start(
    config: Annotated[Path | None, typer.Option(help="TOML config file")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the database lives")] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port (0 picks a free one)")] = None,
    grpc_host: Annotated[str | None, typer.Option(
        help="Address for the gRPC API (default: the same as --host)")] = None,
    grpc_port: Annotated[int | None, typer.Option(
        help="Port for the gRPC API (default 50051; 0 picks a free one)")] = None,
    metrics_port: Annotated[int | None, typer.Option(
        help="Also serve /metrics on this port (default: only on the API port)")] = None,
    workers: Annotated[int | None, typer.Option(help="Agent worker threads")] = None,
    log_level: Annotated[str | None, typer.Option(help="debug|info|warning|error")] = None,
) -> None:
    """Start the server in the foreground (Ctrl-C or SIGTERM stops it gracefully)."""
    # Imported here so that client commands do not pay for loading the server.
    from caxton.config import load_config  # noqa: PLC0415
    from caxton.server import run  # noqa: PLC0415

    settings = load_config(config, overrides={
        "data_dir": data_dir, "host": host, "port": port, "workers": workers,
        "log_level": log_level, "grpc_host": grpc_host, "grpc_port": grpc_port,
        "metrics_port": metrics_port,
    })
    run(settings)


@app.command()
def status(server: ServerOpt = None, transport: TransportOpt = TransportKind.rest,
           grpc_server: GrpcServerOpt = None, output: OutputOpt = Output.table) -> None:
    """Health, readiness and agent counts of a running server."""
    client = connect(server, transport, grpc_server)
    answer = client.status()
    health, ready = answer["health"], answer["ready"]
    if output is Output.json:
        emit_json({"health": health, "ready": ready})
        return
    agents = ready["checks"]["agents"]
    emit_fields([("server", client.target), ("status", ready["status"]),
                 ("uptime", f"{health['uptime_s']:.0f}s"),
                 ("agents", f"{agents['running']} running of {agents['total']}")])

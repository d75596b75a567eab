"""caxton server start|status"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

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


class ClientCerts(StrEnum):
    off = "off"
    optional = "optional"
    required = "required"


class GrpcClientCerts(StrEnum):
    off = "off"
    required = "required"


@app.command()
def start(
    config: Annotated[Path | None, typer.Option(help="TOML config file")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the database lives")] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(
        min=0, max=65535, help="Port (0 picks a free one)")] = None,
    grpc_host: Annotated[str | None, typer.Option(
        help="Address for the gRPC API (default: the same as --host)")] = None,
    grpc_port: Annotated[int | None, typer.Option(
        min=0, max=65535,
        help="Port for the gRPC API (default 50051; 0 picks a free one)")] = None,
    metrics_port: Annotated[int | None, typer.Option(
        min=-1, max=65535,
        help="Also serve /metrics on this port (default: only on the API port)")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, max=256, help="Agent worker threads")] = None,
    log_level: Annotated[str | None, typer.Option(help="debug|info|warning|error")] = None,
    auth: Annotated[str | None, typer.Option(
        help="on (default): every API call needs a key; off: every caller is an admin, for a "
             "throw-away local server only")] = None,
    init: Annotated[bool, typer.Option(
        "--init", help="Begin an empty database where the data dir's database file is empty, "
        "missing or not a database (the old file is kept beside it)")] = False,
    tls_cert: Annotated[Path | None, typer.Option(
        help="TLS: the server's certificate (PEM; with --tls-key). REST, gRPC and the "
             "metrics port then speak TLS only; SIGHUP reloads the files")] = None,
    tls_key: Annotated[Path | None, typer.Option(
        help="TLS: the private key of --tls-cert (PEM)")] = None,
    tls_client_ca: Annotated[Path | None, typer.Option(
        help="CA certificates (PEM) client certificates must be signed by")] = None,
    rest_client_certs: Annotated[ClientCerts | None, typer.Option(
        help="Client certificates on REST (and /acc, metrics): off, optional or required")
    ] = None,
    grpc_client_certs: Annotated[GrpcClientCerts | None, typer.Option(
        help="Client certificates on gRPC: off or required")] = None,
) -> None:
    """Start the server in the foreground (Ctrl-C or SIGTERM stops it gracefully)."""
    # Imported here so that client commands do not pay for loading the server.
    from caxton.config import load_config  # noqa: PLC0415
    from caxton.server import run  # noqa: PLC0415

    settings = load_config(config, overrides={
        "data_dir": data_dir, "host": host, "port": port, "workers": workers,
        "log_level": log_level, "grpc_host": grpc_host, "grpc_port": grpc_port,
        "metrics_port": metrics_port, "init": True if init else None, "auth": auth,
        "tls_cert_file": tls_cert and str(tls_cert), "tls_key_file": tls_key and str(tls_key),
        "tls_client_ca_file": tls_client_ca and str(tls_client_ca),
        "rest_client_certs": rest_client_certs and rest_client_certs.value,
        "grpc_client_certs": grpc_client_certs and grpc_client_certs.value,
    })
    run(settings)


@app.command()
def check(
    data_dir: Annotated[Path | None, typer.Option(
        help="The data directory (default: the configured one)")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML config file")] = None,
    repair: Annotated[bool, typer.Option(
        "--repair", help="If the check fails, copy every table into a new database (indexes "
        "built afresh; the old file kept beside it), then check again; stop the server first")
    ] = False,
    output: OutputOpt = Output.table,
) -> None:
    """Check a data directory's database: SQLite's full integrity check, then every stored
    record decoded. Exit code 0 when all is well, 1 when anything is damaged."""
    from caxton.cli._check import run_check  # noqa: PLC0415 - keeps client commands light
    from caxton.config import load_config  # noqa: PLC0415

    settings = load_config(config, overrides={"data_dir": data_dir})
    raise typer.Exit(run_check(settings.data_dir, repair=repair, as_json=output is Output.json))


@app.command()
def status(server: ServerOpt = None, transport: TransportOpt = TransportKind.rest,
           grpc_server: GrpcServerOpt = None, output: OutputOpt = Output.table) -> None:
    """Health, readiness, uptime, agent counts and message rates of a running server.

    Rates are messages routed and handler runs per second over the last minute.
    """
    client = connect(server, transport, grpc_server)
    answer = client.status()
    health, ready = answer["health"], answer["ready"]
    if output is Output.json:
        emit_json({"health": health, "ready": ready})
        return
    agents = ready["checks"]["agents"]
    emit_fields([("server", client.target), ("health", health.get("status", "?")),
                 ("status", ready["status"]), ("uptime", _duration(health["uptime_s"])),
                 ("agents", f"{agents['running']} running of {agents['total']}"),
                 ("messages", _rates(ready.get("messages")))])


def _duration(seconds: float) -> str:
    whole = int(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if days or hours:
        parts.append(f"{hours}h")
    if days or hours or minutes:
        parts.append(f"{minutes}m")
    return " ".join([*parts, f"{secs}s"])


def _rates(rates: dict[str, Any] | None) -> str:
    if not rates:
        return "(not reported by this server)"
    return (f"{rates['routed_per_s']:g} routed/s, {rates['processed_per_s']:g} processed/s "
            f"(last {min(rates['window_s'], 60):.0f}s; {rates['routed_total']} routed, "
            f"{rates['processed_total']} processed since start)")

"""caxton agents deploy|list|show|logs|remove|stop|start"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from caxton.cli import _deploy as following
from caxton.cli import _drivers as drivers
from caxton.cli._client import CliError, TransportKind, connect
from caxton.cli._output import (
    GrpcServerOpt,
    Output,
    OutputOpt,
    ServerOpt,
    TransportOpt,
    emit_fields,
    emit_json,
    emit_table,
)
from caxton.cli.directory import ServiceOpt, ServicesFileOpt, read_services

app = typer.Typer(help="Deploy and manage agents.", no_args_is_help=True)


def _show(agent: dict[str, Any], output: Output) -> None:
    if output is Output.json:
        emit_json(agent)
        return
    stats, limits = agent["stats"], agent["limits"]
    emit_fields([
        ("name", agent["name"]), ("version", agent["version"]), ("state", agent["state"]),
        ("module", agent["module_hash"][:16]), ("deployed", agent["deployed_at"]),
        ("fuel", limits["fuel"]), ("memory limit", limits["memory_bytes"]),
        ("timeout ms", limits["timeout_ms"]), ("max message", limits["max_message_bytes"]),
        ("max sends", limits.get("max_sends_per_message")),
        ("memory used", agent["memory_bytes"]), ("hibernated", agent.get("hibernated", False)),
        ("mailbox", agent["mailbox_depth"]),
        ("handled", stats["handled"]), ("failed", stats["failed"]), ("sent", stats["sent"]),
        ("sends refused", stats.get("sends_refused", 0)),
        ("batched", stats.get("batched_messages", 0)), ("last error", stats["last_error"]),
        *_permission_rows(agent.get("permissions")),
    ])


def _permission_rows(permissions: dict[str, Any] | None) -> list[tuple[str, Any]]:
    if permissions is None:
        return [("permissions", "none declared: everything allowed")]
    rate = permissions.get("rate")

    def listed(key: str) -> str:
        return ", ".join(permissions.get(key) or []) or "(none)"

    return [("host functions", listed("host_functions")), ("messaging", listed("messaging")),
            ("rate", f"{rate['messages_per_s']:g}/s, burst {rate['burst']}" if rate else "-"),
            ("max receivers", permissions.get("max_receivers") or "-"),
            ("tools", listed("tools"))]


@app.command()
def deploy(
    file: Annotated[Path, typer.Argument(help=".wasm binary or .wat text", show_default=False)],
    name: Annotated[str, typer.Option("--name", "-n", help="Agent name")],
    version: Annotated[str, typer.Option(help="Version label")] = "0.1.0",
    fuel: Annotated[int | None, typer.Option(min=1, help="Fuel (instructions) per message")] = None,
    memory_bytes: Annotated[int | None, typer.Option(min=1, help="Linear memory cap")] = None,
    timeout_ms: Annotated[int | None, typer.Option(
        min=1, help="Wall-clock limit per message")] = None,
    max_message_bytes: Annotated[int | None, typer.Option(min=1, help="Largest message")] = None,
    max_sends_per_message: Annotated[int | None, typer.Option(
        min=1, help="Sends and replies one handled message may make")] = None,
    service: ServiceOpt = None,
    services: ServicesFileOpt = None,
    permissions: Annotated[str | None, typer.Option(
        "--permissions", metavar="FILE|JSON",
        help="What the agent may do (least privilege), as a JSON object or a file holding "
             "one; without it the agent may do everything. See docs/agent-permissions.md")
    ] = None,
    timeout: Annotated[str, typer.Option(
        help="How long to wait for the deploy: 30s, 10m or seconds (it goes on in the server "
             "after that)")] = "30m",
    wait: Annotated[bool, typer.Option(
        help="Wait for the deploy to finish (--no-wait: print its id and return)")] = True,
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Validate FILE and deploy it as NAME (a new version if NAME exists).

    Shows each stage on a terminal (upload, validate, compile, instantiate, init, switch). A
    large component takes a while to compile: if --timeout passes first, the deploy goes on
    in the server and `caxton agents deployment ID --wait` follows it.
    """
    wait_s = drivers.duration(timeout, "--timeout")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror}") from None
    limits = {"fuel": fuel, "memory_bytes": memory_bytes, "timeout_ms": timeout_ms,
              "max_message_bytes": max_message_bytes,
              "max_sends_per_message": max_sends_per_message}
    chosen = {k: v for k, v in limits.items() if v is not None}
    declared = read_permissions(permissions)
    client = connect(server, transport, grpc_server)
    if not wait:
        started = client.start_deployment(name, data, version, chosen,
                                          read_services(service, services), declared)
        if output is Output.json:
            emit_json(started)
        else:
            typer.echo(f"deploying {name} {version}: deployment {started['id']} (follow it "
                       f"with `caxton agents deployment {name} --wait`)")
        return
    agent = following.deploy(client, name, data, version, chosen,
                             read_services(service, services), wait_s, permissions=declared)
    if output is Output.json:
        emit_json(agent)
    else:
        typer.echo(f"deployed {agent['name']} {agent['version']} ({agent['state']})")


def read_permissions(text: str | None) -> dict[str, Any] | None:
    """``--permissions``: inline JSON (it starts with ``{``) or the name of a file holding it."""
    if text is None:
        return None
    source = "--permissions"
    if not text.lstrip().startswith("{"):
        path, source = Path(text), f"--permissions {text}"
        try:
            text = path.read_text()
        except OSError as exc:
            raise CliError(f"cannot read the permissions file {path}: {exc.strerror}", 2
                           ) from None
        except UnicodeDecodeError:
            raise CliError(f"the permissions file {path} is not UTF-8 text", 2) from None
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise CliError(f"{source} is not valid JSON: {exc}", 2) from None
    if not isinstance(found, dict):
        raise CliError(f"{source} must be a JSON object (see docs/agent-permissions.md)", 2)
    return found


@app.command()
def deployment(
    deployment_id: Annotated[str, typer.Argument(
        metavar="ID|NAME", help="The deployment's id, or an agent's name for its latest")],
    wait: Annotated[bool, typer.Option(
        "--wait", help="Follow it until it succeeds or fails")] = False,
    timeout: Annotated[str, typer.Option(help="With --wait: how long to follow it")] = "30m",
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Show a deployment (by id, or an agent's latest by its name): its stage, how long each
    stage took, and how it ended.

    Exits 1 when it failed; with --wait, 4 when it is still running after --timeout.
    """
    wait_s = drivers.duration(timeout, "--timeout")
    client = connect(server, transport, grpc_server)
    found = client.deployment(deployment_id)
    if wait:
        with following.DeployProgress(found["name"]) as progress:
            found = following.wait_for(client, found, wait_s, progress)
    if output is Output.json:
        emit_json(found)
    else:
        stages = ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in found["stage_s"].items())
        error = found.get("error") or {}
        emit_fields([("deployment", found["id"]), ("agent", found["name"]),
                     ("version", found["version"]), ("status", found["status"]),
                     ("stage", found["stage"]), ("stages", stages),
                     ("elapsed", f"{found['elapsed_s']:.1f}s"),
                     ("error", error.get("message"))])
    if found["status"] == "failed":
        raise following.failed(found)
    if wait and found["status"] == "running":
        raise following.still_deploying(found, wait_s)


@app.command("list")
def list_agents(server: ServerOpt = None, transport: TransportOpt = TransportKind.rest,
                grpc_server: GrpcServerOpt = None, output: OutputOpt = Output.table) -> None:
    """List deployed agents."""
    agents = connect(server, transport, grpc_server).list_agents()
    if output is Output.json:
        emit_json(agents)
        return
    emit_table(
        ["NAME", "VERSION", "STATE", "HANDLED", "FAILED", "MAILBOX", "DEPLOYED"],
        [[a["name"], a["version"], a["state"], a["stats"]["handled"], a["stats"]["failed"],
          a["mailbox_depth"], a["deployed_at"]] for a in agents],
    )


@app.command()
def show(name: str, server: ServerOpt = None, transport: TransportOpt = TransportKind.rest,
         grpc_server: GrpcServerOpt = None, output: OutputOpt = Output.table) -> None:
    """Show one agent: state, version, limits and counters."""
    _show(connect(server, transport, grpc_server).get_agent(name), output)


@app.command()
def logs(
    name: str,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many recent lines")] = 100,
    since: Annotated[str | None, typer.Option(
        help="Only lines after this RFC 3339 time, e.g. 2026-11-23T18:00:00Z")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f",
                                         help="Keep printing new lines (Ctrl-C stops)")] = False,
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Show what the agent wrote through the host's log function (and WASI stdout/stderr)."""
    client = connect(server, transport, grpc_server)
    after = _utc(since) if since else ""
    seen: set[tuple[str, str]] = set()
    lines = [ln for ln in client.agent_logs(name, limit) if ln["timestamp"] > after]
    if output is Output.json and not follow:
        emit_json(lines)  # one JSON array; with --follow, one JSON object per line instead
        return
    while True:
        for line in lines:
            key = (line["timestamp"], line["message"])
            if key in seen:
                continue
            seen.add(key)
            after = max(after, line["timestamp"])
            _print_log(line, output)
        if not follow:
            return
        time.sleep(0.5)
        # The server keeps the last 1,000 lines; take them all and print what is new.
        lines = [ln for ln in client.agent_logs(name, 1000) if ln["timestamp"] >= after]
        seen = {k for k in seen if k[0] >= after}


def _utc(text: str) -> str:
    """``text`` as the server writes timestamps (UTC, microseconds, Z), for comparison."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"--since {text!r} is not an RFC 3339 time", 2) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _print_log(line: dict[str, Any], output: Output) -> None:
    if output is Output.json:
        typer.echo(orjson.dumps(line).decode())
        return
    levels = {0: "DEBUG", 1: "INFO", 2: "WARN", 3: "ERROR"}
    typer.echo(f"{line['timestamp']} {levels.get(line['level'], line['level'])} "
               f"{line['message']}")


@app.command()
def remove(name: str, server: ServerOpt = None, transport: TransportOpt = TransportKind.rest,
           grpc_server: GrpcServerOpt = None, output: OutputOpt = Output.table) -> None:
    """Drain and remove an agent."""
    connect(server, transport, grpc_server).remove_agent(name)
    if output is Output.json:
        emit_json({"removed": name})
    else:
        typer.echo(f"removed {name}")


@app.command()
def stop(name: str, server: ServerOpt = None, transport: TransportOpt = TransportKind.rest,
         grpc_server: GrpcServerOpt = None, output: OutputOpt = Output.table) -> None:
    """Stop an agent after it handles what is in its mailbox."""
    _show(connect(server, transport, grpc_server).stop_agent(name), output)


@app.command()
def start(name: str, server: ServerOpt = None, transport: TransportOpt = TransportKind.rest,
          grpc_server: GrpcServerOpt = None, output: OutputOpt = Output.table) -> None:
    """Start a stopped or failed agent."""
    _show(connect(server, transport, grpc_server).start_agent(name), output)

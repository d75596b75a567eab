"""caxton events tail"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer

from caxton.cli._client import TransportKind, connect
from caxton.cli._output import GrpcServerOpt, Output, OutputOpt, ServerOpt, TransportOpt

app = typer.Typer(help="Watch agent lifecycle and deployment events.", no_args_is_help=True)


def _line(event: dict[str, Any]) -> str:
    """``<at>  <kind>  <agent>  <what>``, the what depending on the kind."""
    kind, version = event["kind"], event.get("version") or "?"
    module = (event.get("module_hash") or "")[:12]
    if kind == "upgraded":
        old = (event.get("old_module_hash") or "")[:12]
        change = f"module {old} -> {module}" if old != module else f"same module {module}"
        what = f"{event.get('old_version')} -> {version} ({change})"
    elif kind == "deployed":
        what = f"{version} (module {module}), {event.get('state')}"
    elif kind == "removed":
        what = version
    else:
        what = str(event.get("state"))
    if event.get("reason"):
        what += f": {event['reason']}"
    return f"{event['at']}  {kind:<8}  {event['agent']}  {what}"


@app.command()
def tail(
    agent: Annotated[str | None, typer.Option(help="Only this agent's events")] = None,
    kind: Annotated[str | None, typer.Option(
        help="Only these kinds, comma-separated: deployed, upgraded, removed, loaded, started, "
             "stopping, stopped, failed, or the groups deployment and lifecycle")] = None,
    count: Annotated[int | None, typer.Option(min=1, help="Stop after N events")] = None,
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Print agent events as they happen, until Ctrl-C (or --count are printed).

    With -o json each event is one line of JSON. A note on standard error tells when the
    server skipped events because the terminal could not keep up.
    """
    client = connect(server, transport, grpc_server)
    dropped = printed = 0
    with client.events(agent, kind) as events:
        for item in events:
            event = item["event"]
            if output is Output.json:
                sys.stdout.write(orjson.dumps(event).decode() + "\n")
                sys.stdout.flush()
            else:
                typer.echo(_line(event))
            if item["dropped"] > dropped:
                typer.echo(f"({item['dropped'] - dropped} events skipped: reading too slowly)",
                           err=True)
                dropped = item["dropped"]
            printed += 1
            if count is not None and printed >= count:
                break

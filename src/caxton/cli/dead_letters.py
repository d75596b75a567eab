"""caxton dead-letters list|show|replay|purge"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer

from caxton.cli._client import CliError, TransportKind, connect
from caxton.cli._output import (
    GrpcServerOpt,
    Output,
    OutputOpt,
    ServerOpt,
    TransportOpt,
    emit_json,
    emit_table,
)

app = typer.Typer(help="Inspect, replay and purge messages that failed every attempt.",
                  no_args_is_help=True)


def _rows(letters: list[dict[str, Any]]) -> list[list[Any]]:
    return [[d["message_id"], d["receiver"], d["attempts"], d["failed_at"], d["reason"],
             orjson.dumps(d["message"].get("content")).decode()[:40]] for d in letters]


_COLUMNS = ["MESSAGE", "RECEIVER", "ATTEMPTS", "FAILED", "REASON", "CONTENT"]


@app.command("list")
def list_letters(
    agent: Annotated[str | None, typer.Option(help="Only those for this agent")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first")] = 100,
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """List dead letters."""
    letters = connect(server, transport, grpc_server).list_dead_letters(agent, limit)
    if output is Output.json:
        emit_json(letters)
    else:
        emit_table(_COLUMNS, _rows(letters))


@app.command()
def show(message_id: str, server: ServerOpt = None, transport: TransportOpt = TransportKind.rest,
         grpc_server: GrpcServerOpt = None, output: OutputOpt = Output.table) -> None:
    """Show a dead letter with its full message."""
    letters = connect(server, transport, grpc_server).get_dead_letter(message_id)
    if output is Output.json:
        emit_json(letters)
        return
    emit_table(_COLUMNS, _rows(letters))
    typer.echo(orjson.dumps(letters[0]["message"], option=orjson.OPT_INDENT_2).decode())


@app.command()
def replay(message_id: str, server: ServerOpt = None,
           transport: TransportOpt = TransportKind.rest, grpc_server: GrpcServerOpt = None,
           output: OutputOpt = Output.table) -> None:
    """Deliver a dead letter again; its attempts start over."""
    result = connect(server, transport, grpc_server).replay_dead_letter(message_id)
    if output is Output.json:
        emit_json(result)
    else:
        typer.echo(f"replayed {message_id} to {result['replayed']} receiver(s)")


@app.command()
def purge(
    message_id: Annotated[str | None, typer.Argument(help="One message id")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Purge every dead letter")] = False,
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Delete one dead letter, or all with --all."""
    if (message_id is None) == (not all_):
        raise CliError("give a MESSAGE_ID or --all (not both)", 2)
    result = connect(server, transport, grpc_server).purge_dead_letters(message_id)
    if output is Output.json:
        emit_json(result)
    else:
        typer.echo(f"purged {result['purged']} dead letter(s)")

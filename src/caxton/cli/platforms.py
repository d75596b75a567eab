"""caxton platforms add|list|remove"""

from __future__ import annotations

from typing import Annotated

import typer

from caxton.cli._client import TransportKind, connect
from caxton.cli._output import (
    GrpcServerOpt,
    Output,
    OutputOpt,
    ServerOpt,
    TransportOpt,
    emit_json,
    emit_table,
)

app = typer.Typer(help="The platform address book: where agents NAME@PLATFORM of other FIPA "
                       "platforms are reached.", no_args_is_help=True)


@app.command("list")
def list_platforms(server: ServerOpt = None, transport: TransportOpt = TransportKind.rest,
                   grpc_server: GrpcServerOpt = None, output: OutputOpt = Output.table) -> None:
    """List the platforms of the address book."""
    rows = connect(server, transport, grpc_server).list_platforms()
    if output is Output.json:
        emit_json(rows)
        return
    emit_table(["PLATFORM", "URLS", "SOURCE"],
               [[r["name"], " ".join(r["urls"]), r["source"]] for r in rows])


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="The platform's name, as in agent@NAME")],
    urls: Annotated[list[str], typer.Argument(help="Its FIPA HTTP MTP URL(s), http(s)://.../acc")],
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Add a platform (or replace its URLs): messages to NAME@PLATFORM go there."""
    entry = connect(server, transport, grpc_server).add_platform(name, urls)
    if output is Output.json:
        emit_json(entry)
        return
    verb = "added" if entry.get("created") else "updated"
    typer.echo(f"{verb} {entry['name']}: {' '.join(entry['urls'])}")


@app.command()
def remove(
    name: Annotated[str, typer.Argument(help="The platform's name")],
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
) -> None:
    """Remove a platform from the address book."""
    connect(server, transport, grpc_server).remove_platform(name)
    typer.echo(f"removed {name}")

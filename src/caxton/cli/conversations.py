"""caxton conversations list|show"""

from __future__ import annotations

import shutil
from typing import Annotated

import typer

from caxton.cli._chart import render
from caxton.cli._client import TransportKind, connect
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
from caxton.domain.cascade import FANOUT, LOOP

app = typer.Typer(help="Inspect conversations.", no_args_is_help=True)
CUT_KINDS = frozenset({LOOP, FANOUT})


@app.command("list")
def list_conversations(
    limit: Annotated[int, typer.Option(min=1, help="How many, most recent first")] = 50,
    agent: Annotated[str | None, typer.Option(help="Only those this agent took part in")] = None,
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """List recent conversations."""
    rows = connect(server, transport, grpc_server).list_conversations(limit, agent or None)
    if output is Output.json:
        emit_json(rows)
        return
    emit_table(
        ["CONVERSATION", "PROTOCOL", "STATUS", "INITIATOR", "MESSAGES", "PARTICIPANTS", "LAST"],
        [[r["conversation_id"], r["protocol"] or "-", r.get("status") or "-", r["initiator"],
          r["message_count"], ",".join(r["participants"]), r["last_at"]] for r in rows],
    )


@app.command()
def show(conversation_id: str, server: ServerOpt = None,
         transport: TransportOpt = TransportKind.rest, grpc_server: GrpcServerOpt = None,
         output: OutputOpt = Output.table) -> None:
    """Show a conversation as a message sequence chart, with each party's protocol state."""
    conv = connect(server, transport, grpc_server).get_conversation(conversation_id)
    if output is Output.json:
        emit_json(conv)
        return
    listed, count = len(conv.get("messages", [])), conv["message_count"]
    fields = [("conversation", conv["conversation_id"]),
              ("protocol", conv["protocol"] or "-"),
              ("status", conv.get("status") or "-"),
              ("started", conv["started_at"]),
              ("messages", f"{count}" + (f" (the first {listed} drawn)" if listed < count
                                          else ""))]
    # A loop or fork bomb the platform cut in this conversation (docs/delivery.md).
    fields.extend(("cut", f"{e['kind']} at {e['at']}: {e['detail']}")
                  for e in conv.get("events", []) if e.get("kind") in CUT_KINDS)
    emit_fields(fields)
    typer.echo()
    for line in render(conv, shutil.get_terminal_size((120, 24)).columns):
        typer.echo(line)
    parties = conv.get("parties") or {}
    if parties:
        typer.echo()
        emit_table(["PARTY", "STATE", "LAST ACT", "REPLY BY"],
                   [[name, p["state"], p.get("last") or "-", p.get("deadline") or "-"]
                    for name, p in parties.items()])

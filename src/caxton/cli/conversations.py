"""caxton conversations list|show"""

from __future__ import annotations

from typing import Annotated

import orjson
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
    emit_table,
)

app = typer.Typer(help="Inspect conversations.", no_args_is_help=True)


@app.command("list")
def list_conversations(
    limit: Annotated[int, typer.Option(help="How many, most recent first")] = 50,
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
        ["CONVERSATION", "PROTOCOL", "INITIATOR", "MESSAGES", "PARTICIPANTS", "LAST"],
        [[r["conversation_id"], r["protocol"] or "-", r["initiator"], r["message_count"],
          ",".join(r["participants"]), r["last_at"]] for r in rows],
    )


@app.command()
def show(conversation_id: str, server: ServerOpt = None,
         transport: TransportOpt = TransportKind.rest, grpc_server: GrpcServerOpt = None,
         output: OutputOpt = Output.table) -> None:
    """Show a conversation's messages in order."""
    conv = connect(server, transport, grpc_server).get_conversation(conversation_id)
    if output is Output.json:
        emit_json(conv)
        return
    emit_fields([("conversation", conv["conversation_id"]), ("protocol", conv["protocol"]),
                 ("participants", ", ".join(conv["participants"]))])
    emit_table(
        ["#", "TIME", "PERFORMATIVE", "FROM", "TO", "CONTENT"],
        [[i + 1, m["timestamp"], m["performative"], m["sender"], ",".join(m["receiver"]),
          orjson.dumps(m.get("content")).decode()[:80]] for i, m in enumerate(conv["messages"])],
    )

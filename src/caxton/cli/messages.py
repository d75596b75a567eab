"""caxton messages send|tail"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer

from caxton.cli._client import CliError, TransportKind, connect
from caxton.cli._output import GrpcServerOpt, Output, OutputOpt, ServerOpt, TransportOpt, emit_json

app = typer.Typer(help="Send FIPA-ACL messages to agents, and watch them.", no_args_is_help=True)

# Replies that mean the request did not succeed; the CLI exits non-zero on them.
_TROUBLE = {"failure", "not-understood"}


def _content(raw: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CliError(f"--content is not valid JSON: {exc}", 2) from None


def _line(msg: dict[str, Any]) -> str:
    receivers = ",".join(msg["receiver"])
    content = orjson.dumps(msg.get("content")).decode()
    return f"{msg['performative']} {msg['sender']} -> {receivers}: {content}"


@app.command()
def send(
    to: Annotated[str, typer.Option("--to", help="Receiver agent name(s), comma-separated")],
    content: Annotated[str, typer.Option(help="Content as JSON")] = "null",
    performative: Annotated[str, typer.Option(help="FIPA performative")] = "request",
    conversation_id: Annotated[str | None, typer.Option(help="Conversation id")] = None,
    protocol: Annotated[str | None, typer.Option(help="Interaction protocol")] = None,
    ontology: Annotated[str | None, typer.Option(help="Ontology")] = None,
    language: Annotated[str | None, typer.Option(help="Content language")] = None,
    sender: Annotated[str | None, typer.Option(help="Sender name (default: a client inbox)")
                      ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for and print the reply")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the reply")] = 30.0,
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Send a message; with --wait print the reply."""
    body: dict[str, Any] = {
        "performative": performative,
        "receiver": [r.strip() for r in to.split(",") if r.strip()],
        "content": _content(content),
    }
    optional = {"conversation_id": conversation_id, "protocol": protocol, "ontology": ontology,
                "language": language, "sender": sender}
    body.update({k: v for k, v in optional.items() if v is not None})
    client = connect(server, transport, grpc_server, timeout=timeout + 30)
    result = client.send(body, wait=wait, timeout=timeout)
    sent, reply = result["message"], result.get("reply")
    if output is Output.json:
        emit_json(result if wait else sent)
    elif reply is not None:
        typer.echo(_line(reply))
    else:
        typer.echo(f"sent {sent['message_id']} (conversation {sent['conversation_id']})")
    if reply is not None and reply["performative"] in _TROUBLE:
        detail = reply.get("content")
        raise CliError(f"{reply['sender']} replied {reply['performative']}: "
                       f"{orjson.dumps(detail).decode()}")


@app.command()
def tail(
    agent: Annotated[str | None, typer.Option(help="Only messages this agent sends or receives")
                     ] = None,
    performative: Annotated[str | None, typer.Option(help="Only this performative")] = None,
    count: Annotated[int | None, typer.Option(min=1, help="Stop after N messages")] = None,
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Print messages as the server routes them, until Ctrl-C (or --count are printed).

    With -o json each message is one line of JSON. A note on standard error tells when the
    server skipped messages because the terminal could not keep up.
    """
    client = connect(server, transport, grpc_server)
    dropped = printed = 0
    with client.tail(agent, performative) as events:
        for event in events:
            msg = event["message"]
            if output is Output.json:
                sys.stdout.write(orjson.dumps(msg).decode() + "\n")
                sys.stdout.flush()
            else:
                typer.echo(_line(msg))
            if event["dropped"] > dropped:
                typer.echo(f"({event['dropped'] - dropped} messages skipped: reading too "
                           "slowly)", err=True)
                dropped = event["dropped"]
            printed += 1
            if count is not None and printed >= count:
                break

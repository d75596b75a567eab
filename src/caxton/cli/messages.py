"""caxton messages send|tail|cfp|subscribe"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer

from caxton.cli import _drivers as drivers
from caxton.cli._client import CliError, TransportKind, connect
from caxton.cli._output import GrpcServerOpt, Output, OutputOpt, ServerOpt, TransportOpt, emit_json

app = typer.Typer(help="Send FIPA-ACL messages to agents, and watch them.", no_args_is_help=True)

AddressOpt = Annotated[list[str] | None, typer.Option(
    "--address", help="Where an agent on another platform is reached, NAME=URL (repeatable; "
                      "not needed when its platform is in `caxton platforms`)")]

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
    message_id: Annotated[str | None, typer.Option(
        help="Message id (default: a new one); sending the same id again delivers nothing "
             "twice, and `caxton dead-letters show ID` finds it")] = None,
    protocol: Annotated[str | None, typer.Option(help="Interaction protocol")] = None,
    ontology: Annotated[str | None, typer.Option(help="Ontology")] = None,
    language: Annotated[str | None, typer.Option(help="Content language")] = None,
    sender: Annotated[str | None, typer.Option(help="Sender name (default: a client inbox)")
                      ] = None,
    reply_by: Annotated[str | None, typer.Option(
        help="Deadline for the answers: a duration from now (5s, 500ms, 2m) or an RFC 3339 "
             "time; the platform times out whoever has not answered by then")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for and print the reply")] = False,
    timeout: Annotated[float, typer.Option(min=0, help="Seconds to wait for the reply")] = 30.0,
    address: AddressOpt = None,
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
    optional = {"conversation_id": conversation_id, "message_id": message_id,
                "protocol": protocol, "ontology": ontology, "language": language, "sender": sender,
                "reply_by": drivers.deadline(reply_by, "--reply-by") if reply_by else None,
                "addresses": drivers.addresses(address) or None}
    body.update({k: v for k, v in optional.items() if v is not None})
    client = connect(server, transport, grpc_server, timeout=timeout + 30)
    result = client.send(body, wait=wait, timeout=timeout)
    sent, reply = result["message"], result.get("reply")
    if output is Output.json:
        emit_json(result if wait else sent)
    elif result.get("duplicate"):
        # accepted before under this message_id: nothing was sent again, and there is no reply
        typer.echo(f"not sent again: message {sent['message_id']} was accepted before")
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


ParamOpt = Annotated[list[str] | None, typer.Option(
    "--param", help="A user-defined parameter X-NAME=VALUE for every message (repeatable)")]


@app.command()
def cfp(
    to: Annotated[str, typer.Option("--to", help="Participants, comma-separated (or a "
                                    "service:TYPE/all address)")],
    content: Annotated[str, typer.Option(help="The call for proposals as JSON")] = "null",
    deadline: Annotated[str, typer.Option(help="Time to propose: 5s, 500ms, 2m")] = "5s",
    pick: Annotated[str, typer.Option(help="min:FIELD, max:FIELD or first")] = "min:price",
    result_timeout: Annotated[str, typer.Option(help="Time for the winner's result")] = "10s",
    conversation_id: Annotated[str | None, typer.Option(help="Conversation id")] = None,
    ontology: Annotated[str | None, typer.Option(help="Ontology")] = None,
    language: Annotated[str | None, typer.Option(help="Content language")] = None,
    param: ParamOpt = None,
    address: AddressOpt = None,
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Run a Contract Net: call for proposals, accept the best, reject the rest.

    The server sends one cfp (protocol fipa-contract-net, reply-by now + --deadline), collects
    the proposals and refusals until everyone answered or the deadline passed, accepts the best
    proposal by --pick and rejects the others with the reason, then waits for the winner's
    inform or failure. Exits 1 when nobody proposed or the winner failed, 4 when the winner did
    not report in time.
    """
    request: dict[str, Any] = {
        "receiver": [r.strip() for r in to.split(",") if r.strip()],
        "content": _content(content),
        "deadline_s": drivers.duration(deadline, "--deadline"),
        "pick": pick,
        "result_timeout_s": drivers.duration(result_timeout, "--result-timeout"),
    }
    optional = {"conversation_id": conversation_id, "ontology": ontology, "language": language,
                "addresses": drivers.addresses(address) or None}
    request.update({k: v for k, v in optional.items() if v is not None})
    request.update(drivers.params(param))
    wait = request["deadline_s"] + request["result_timeout_s"]
    client = connect(server, transport, grpc_server, timeout=wait + 30)
    outcome = client.contract_net(request)
    if output is Output.json:
        emit_json(outcome)
    else:
        drivers.show_outcome(outcome)
    problem = drivers.outcome_error(outcome)
    if problem is not None:
        raise problem


@app.command()
def subscribe(
    to: Annotated[str, typer.Option("--to", help="The agent to subscribe to")],
    content: Annotated[str, typer.Option(help="The subscription as JSON")] = "null",
    count: Annotated[int | None, typer.Option(min=1, help="Cancel after N informs")] = None,
    cancel_timeout: Annotated[str, typer.Option(help="Time for the answer to the cancel")
                              ] = "10s",
    conversation_id: Annotated[str | None, typer.Option(help="Conversation id")] = None,
    ontology: Annotated[str | None, typer.Option(help="Ontology")] = None,
    language: Annotated[str | None, typer.Option(help="Content language")] = None,
    param: ParamOpt = None,
    address: AddressOpt = None,
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Subscribe to an agent and print its informs until Ctrl-C (or --count), then cancel.

    Sends subscribe (protocol fipa-subscribe) and prints the agent's agree and every inform in
    that conversation as they come. On Ctrl-C, after --count informs, or when the subscription
    ends, it sends cancel and prints the agent's answer. With -o json each event is one line of
    JSON. Exits 1 when the agent refused, failed, or did not confirm the cancel.
    """
    request: dict[str, Any] = {"receiver": to.strip(), "content": _content(content),
                               "cancel_timeout_s": drivers.duration(cancel_timeout,
                                                                    "--cancel-timeout")}
    optional = {"count": count, "conversation_id": conversation_id, "ontology": ontology,
                "language": language, "addresses": drivers.addresses(address) or None}
    request.update({k: v for k, v in optional.items() if v is not None})
    request.update(drivers.params(param))
    client = connect(server, transport, grpc_server, timeout=request["cancel_timeout_s"] + 30)

    def show(event: dict[str, Any]) -> None:
        if output is Output.json:
            sys.stdout.write(orjson.dumps(event).decode() + "\n")
        else:
            typer.echo(drivers.event_line(event))
        sys.stdout.flush()

    last: dict[str, Any] | None = None
    with client.subscribe(request) as events:
        try:
            for event in events:
                show(event)
                last = event
        except KeyboardInterrupt:
            if last is None:
                raise
            last = client.cancel_subscription(last["conversation_id"])
            show(last)
    problem = drivers.subscription_error(last)
    if problem is not None:
        raise problem

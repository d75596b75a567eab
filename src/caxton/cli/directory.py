"""caxton directory register|modify|deregister|search (the FIPA directory facilitator)"""

from __future__ import annotations

from pathlib import Path
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

app = typer.Typer(help="Register, find and remove agents' services (the FIPA DF).",
                  no_args_is_help=True)

ServiceOpt = Annotated[list[str] | None, typer.Option(
    "--service", help='A service as JSON, e.g. \'{"type": "translate"}\' (repeatable)')]
ServicesFileOpt = Annotated[Path | None, typer.Option(
    "--services", help="A JSON file holding a list of services")]
Strings = Annotated[list[str] | None, typer.Option(help="Repeatable")]


def _json(text: str, what: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise CliError(f"{what} is not valid JSON: {exc}", 2) from None


def read_services(service: list[str] | None, services_file: Path | None
                  ) -> list[dict[str, Any]] | None:
    """The services of ``--service JSON`` (each) and ``--services FILE``, or None for none."""
    found: list[Any] = [_json(text, f"--service {text!r}") for text in service or ()]
    if services_file is not None:
        try:
            listed = _json(services_file.read_text(), f"--services {services_file}")
        except OSError as exc:
            raise CliError(f"cannot read {services_file}: {exc.strerror}") from None
        if not isinstance(listed, list):
            raise CliError(f"--services {services_file} must hold a JSON list of services", 2)
        found.extend(listed)
    return found or None


def _description(agent: str, service: list[str] | None, services_file: Path | None,
                 protocol: list[str] | None, ontology: list[str] | None,
                 language: list[str] | None, lease_s: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {"agent": agent, "services": read_services(service, services_file)}
    for key, values in (("protocols", protocol), ("ontologies", ontology),
                        ("languages", language)):
        if values:
            out[key] = values
    if lease_s is not None:
        out["lease_s"] = lease_s
    return out


def _emit(descriptions: list[dict[str, Any]], output: Output) -> None:
    if output is Output.json:
        emit_json(descriptions)
        return
    rows = []
    for d in descriptions:
        for s in d["services"] or [{}]:
            props = ",".join(f"{k}={v}" for k, v in (s.get("properties") or {}).items())
            rows.append([d["agent"], s.get("type"), s.get("name"),
                         ",".join(s.get("protocols") or d["protocols"]),
                         ",".join(s.get("ontologies") or d["ontologies"]),
                         ",".join(s.get("languages") or d["languages"]), props,
                         d.get("lease") or ""])
    emit_table(["AGENT", "TYPE", "NAME", "PROTOCOLS", "ONTOLOGIES", "LANGUAGES", "PROPERTIES",
                "LEASE"], rows)


@app.command()
def register(
    agent: Annotated[str, typer.Argument(help="The agent offering the services")],
    service: ServiceOpt = None,
    services: ServicesFileOpt = None,
    protocol: Strings = None,
    ontology: Strings = None,
    language: Strings = None,
    lease_s: Annotated[float | None, typer.Option(
        min=0, help="Lapse after this many seconds")] = None,
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Register AGENT's services with the directory."""
    found = connect(server, transport, grpc_server).df_register(_description(
        agent, service, services, protocol, ontology, language, lease_s))
    if output is Output.json:
        emit_json(found)
    else:
        typer.echo(f"registered {agent} ({len(found['services'])} service(s))")


@app.command()
def modify(
    agent: Annotated[str, typer.Argument(help="A registered agent")],
    service: ServiceOpt = None,
    services: ServicesFileOpt = None,
    protocol: Strings = None,
    ontology: Strings = None,
    language: Strings = None,
    lease_s: Annotated[float | None, typer.Option(
        min=0, help="Lapse after this many seconds")] = None,
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Replace AGENT's registration with the one given."""
    found = connect(server, transport, grpc_server).df_modify(_description(
        agent, service, services, protocol, ontology, language, lease_s))
    if output is Output.json:
        emit_json(found)
    else:
        typer.echo(f"modified {agent} ({len(found['services'])} service(s))")


@app.command()
def deregister(agent: str, server: ServerOpt = None,
               transport: TransportOpt = TransportKind.rest, grpc_server: GrpcServerOpt = None,
               output: OutputOpt = Output.table) -> None:
    """Remove AGENT's registration."""
    connect(server, transport, grpc_server).df_deregister(agent)
    if output is Output.json:
        emit_json({"deregistered": agent})
    else:
        typer.echo(f"deregistered {agent}")


@app.command()
def search(
    type_: Annotated[str | None, typer.Option("--type", help="Service type")] = None,
    name: Annotated[str | None, typer.Option(help="Service name")] = None,
    agent: Annotated[str | None, typer.Option(help="Agent name")] = None,
    protocol: Strings = None,
    ontology: Strings = None,
    language: Strings = None,
    prop: Annotated[list[str] | None, typer.Option(
        "--property", help="KEY=VALUE the service must have (VALUE as JSON, else text)")] = None,
    template: Annotated[str | None, typer.Option(
        help="A whole template as JSON (the options above add to it)")] = None,
    max_results: Annotated[int | None, typer.Option(min=1, help="At most this many (default 100)")
                           ] = None,
    server: ServerOpt = None,
    transport: TransportOpt = TransportKind.rest,
    grpc_server: GrpcServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Find registrations; the service options (--type, --name, --protocol...) describe one
    service the agent must offer."""
    wanted: dict[str, Any] = _json(template, "--template") if template else {}
    if not isinstance(wanted, dict):
        raise CliError("--template must be a JSON object", 2)
    one: dict[str, Any] = {k: v for k, v in (("type", type_), ("name", name)) if v}
    for key, values in (("protocols", protocol), ("ontologies", ontology),
                        ("languages", language)):
        if values:
            one[key] = values
    if prop:
        one["properties"] = dict(_property(p) for p in prop)
    if one:
        wanted["services"] = [*wanted.get("services", []), one]
    if agent:
        wanted["agent"] = agent
    _emit(connect(server, transport, grpc_server).df_search(wanted, max_results), output)


def _property(text: str) -> tuple[str, Any]:
    key, eq, value = text.partition("=")
    if not eq or not key:
        raise CliError(f"--property {text!r} must be KEY=VALUE", 2)
    try:
        return key, orjson.loads(value)
    except orjson.JSONDecodeError:
        return key, value

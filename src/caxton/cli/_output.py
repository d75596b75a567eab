"""Printing results as a table for people or JSON for programs, and the options every client
command shares (where the server is, and which transport reaches it)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from caxton.cli._client import TransportKind


class Output(StrEnum):
    table = "table"
    json = "json"


OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="table or json")]
ServerOpt = Annotated[
    str | None,
    typer.Option("--server", envvar="CAXTON_SERVER",
                 help="Server URL (default http://127.0.0.1:8080)"),
]
TransportOpt = Annotated[
    TransportKind,
    typer.Option("--transport", envvar="CAXTON_TRANSPORT",
                 help="How to reach the server: rest (--server) or grpc (--grpc-server)"),
]
GrpcServerOpt = Annotated[
    str | None,
    typer.Option("--grpc-server", envvar="CAXTON_GRPC_SERVER",
                 help="gRPC server HOST:PORT (default 127.0.0.1:50051)"),
]

console = Console(width=None if sys.stdout.isatty() else 160)


def emit_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def emit_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None
               ) -> None:
    table = Table(title=title, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def emit_fields(pairs: Sequence[tuple[str, Any]]) -> None:
    width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        # Values are data (agent-chosen names among them): never read as markup.
        text = "" if value is None else escape(str(value))
        console.print(f"[bold]{key.ljust(width)}[/bold]  {text}", highlight=False, markup=True)

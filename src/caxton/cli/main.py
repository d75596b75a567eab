"""The ``caxton`` command: noun-verb subcommands, one readable error line, stable exit codes.

Exit codes: 0 success, 1 the request failed, 2 usage error, 3 server unreachable,
4 timed out waiting.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Annotated

import typer

from caxton.cli import (
    agents,
    build,
    conversations,
    dead_letters,
    directory,
    events,
    messages,
    platforms,
    scaffold,
    security,
    server,
    tokens,
)
from caxton.cli._client import CliError, TransportKind
from caxton.errors import CaxtonError

app = typer.Typer(
    name="caxton",
    help="Caxton: an application server for multi-agent systems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        try:
            version = metadata.version("caxton")
        except metadata.PackageNotFoundError:  # run from a checkout that was never installed
            version = "unknown"
        typer.echo(f"caxton {version}")
        raise typer.Exit


@app.callback()
def _global_options(
    _show_version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_version,
        help="Print the version and exit")] = False,
    transport: Annotated[TransportKind | None, typer.Option(
        help="How every client command reaches the server: rest or grpc (the same as the "
             "command's own --transport, which wins; env CAXTON_TRANSPORT)")] = None,
    server: Annotated[str | None, typer.Option(
        help="Server URL for every client command (env CAXTON_SERVER)")] = None,
    grpc_server: Annotated[str | None, typer.Option(
        help="gRPC HOST:PORT for every client command (env CAXTON_GRPC_SERVER)")] = None,
    token: Annotated[str | None, typer.Option(
        help="API key or JWT every client command sends (env CAXTON_TOKEN; default: the "
             "admin key of a server on this machine's data dir)")] = None,
    tls_ca: Annotated[Path | None, typer.Option(
        help="TLS: the CA certificate(s) the server's certificate must be signed by (env "
             "CAXTON_TLS_CA; default: <data-dir>/tls/ca.crt for a server found through its "
             "data dir, else the system's)")] = None,
    tls_cert: Annotated[Path | None, typer.Option(
        help="TLS: a client certificate to present (with --tls-key; env CAXTON_TLS_CERT)")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(
        help="TLS: the key of --tls-cert (env CAXTON_TLS_KEY)")] = None,
) -> None:
    """Caxton: an application server for multi-agent systems."""
    # Given before the command, these become the defaults of the command's own options, which
    # read the same environment variables: `caxton --transport grpc agents list` works, and a
    # --transport after the command still overrides it. The TLS files are read from the
    # environment where the command connects (caxton.cli._endpoint).
    for variable, value in (("CAXTON_TRANSPORT", transport), ("CAXTON_SERVER", server),
                            ("CAXTON_GRPC_SERVER", grpc_server), ("CAXTON_TOKEN", token),
                            ("CAXTON_TLS_CA", tls_ca), ("CAXTON_TLS_CERT", tls_cert),
                            ("CAXTON_TLS_KEY", tls_key)):
        if value is not None:
            os.environ[variable] = str(value)


agents.app.command("new")(scaffold.new)  # caxton agents new NAME --language LANG
agents.app.command("build")(build.build)  # caxton agents build [DIR]
app.add_typer(server.app, name="server")
app.add_typer(agents.app, name="agents")
app.add_typer(messages.app, name="messages")
app.add_typer(conversations.app, name="conversations")
app.add_typer(dead_letters.app, name="dead-letters")
app.add_typer(directory.app, name="directory")
app.add_typer(tokens.app, name="tokens")
app.add_typer(tokens.audit_app, name="audit")
app.add_typer(platforms.app, name="platforms")
app.add_typer(events.app, name="events")
app.add_typer(security.app, name="security")


def main() -> None:
    # gRPC's C core logs each failed TLS handshake (a scanner, a client without a certificate,
    # an untrusted server) as a line of its own on stderr, outside the JSON log; errors it
    # still logs. It reads this when grpc is first imported, which is later.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    try:
        app(standalone_mode=True)
    except CliError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except CaxtonError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)

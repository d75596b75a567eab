"""The ``caxton`` command: noun-verb subcommands, one readable error line, stable exit codes.

Exit codes: 0 success, 1 the request failed, 2 usage error, 3 server unreachable,
4 timed out waiting.
"""

from __future__ import annotations

import sys

import typer

from caxton.cli import (
    agents,
    conversations,
    dead_letters,
    directory,
    events,
    messages,
    platforms,
    scaffold,
    server,
)
from caxton.cli._client import CliError
from caxton.errors import CaxtonError

app = typer.Typer(
    name="caxton",
    help="Caxton: an application server for multi-agent systems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
agents.app.command("new")(scaffold.new)  # caxton agents new NAME --language LANG
app.add_typer(server.app, name="server")
app.add_typer(agents.app, name="agents")
app.add_typer(messages.app, name="messages")
app.add_typer(conversations.app, name="conversations")
app.add_typer(dead_letters.app, name="dead-letters")
app.add_typer(directory.app, name="directory")
app.add_typer(platforms.app, name="platforms")
app.add_typer(events.app, name="events")


def main() -> None:
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

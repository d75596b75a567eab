"""caxton tokens create|list|revoke, and caxton audit list (REST; admin keys only)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from caxton.cli._client import ApiClient
from caxton.cli._endpoint import resolve
from caxton.cli._output import Output, OutputOpt, ServerOpt, emit_json, emit_table

app = typer.Typer(help="API keys: create one per user or program, with a role and an agent "
                       "scope; revoke it when it leaks.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: every mutating call and refused credential.",
                        no_args_is_help=True)
ROLES = "admin, operator, developer or viewer"


@app.command()
def create(
    role: Annotated[str, typer.Option(help=f"The key's role: {ROLES}")],
    agents: Annotated[list[str] | None, typer.Option(
        help="Agent-name pattern the key is scoped to, e.g. 'team-a-*' (repeatable; default: "
             "every agent)")] = None,
    name: Annotated[str, typer.Option(help="A note saying whose key it is")] = "",
    expires: Annotated[str | None, typer.Option(
        help="Lifetime such as 30d, 12h or 1w (default: until revoked)")] = None,
    server: ServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Create an API key. Its token is printed this once: store it now."""
    body: dict[str, Any] = {"role": role, "name": name}
    if agents:
        body["agents"] = agents
    if expires:
        body["expires"] = expires
    created = ApiClient(resolve(server, None)).request("POST", "/api/v1/tokens", json=body,
                                                       expect=(201,))
    if output is Output.json:
        emit_json(created)
        return
    scope = ", ".join(created["agents"])
    typer.echo(f"created key {created['id']}: {created['role']} for {scope}"
               f"{', expires ' + created['expires_at'] if created['expires_at'] else ''}; "
               "its token, shown this once:", err=True)
    typer.echo(created["token"])  # alone on stdout: KEY=$(caxton tokens create ...)


@app.command("list")
def list_tokens(server: ServerOpt = None, output: OutputOpt = Output.table) -> None:
    """List API keys (never their tokens)."""
    rows = ApiClient(resolve(server, None)).request("GET", "/api/v1/tokens")["tokens"]
    if output is Output.json:
        emit_json(rows)
        return
    emit_table(["ID", "NAME", "ROLE", "AGENTS", "CREATED", "EXPIRES", "STATE"],
               [[r["id"], r["name"], r["role"], ", ".join(r["agents"]), r["created_at"],
                 r["expires_at"] or "-",
                 "revoked" if r["revoked_at"] else ("active" if r["active"] else "expired")]
                for r in rows])


@app.command()
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (caxton tokens list)")],
           server: ServerOpt = None) -> None:
    """Revoke an API key: refused from the next request on."""
    ApiClient(resolve(server, None)).request("DELETE", f"/api/v1/tokens/{key_id}")
    typer.echo(f"revoked {key_id}")


@audit_app.command("list")
def list_audit(
    since: Annotated[str | None, typer.Option(
        help="Only events at or after this UTC time, e.g. 2026-12-07T10:00:00Z")] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor, e.g. key:ab12cd34ef56")
                     ] = None,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. deployAgent")
                      ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many (newest)")
                     ] = 100,
    server: ServerOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Show the audit trail, oldest first."""
    params: dict[str, Any] = {"limit": limit}
    for key, value in (("since", since), ("actor", actor), ("action", action)):
        if value is not None:
            params[key] = value
    rows = ApiClient(resolve(server, None)).request("GET", "/api/v1/audit", params=params)["events"]
    if output is Output.json:
        emit_json(rows)
        return
    emit_table(["AT", "ACTOR", "SOURCE", "ACTION", "TARGET", "OUTCOME", "STATUS"],
               [[r["at"], r["actor"], r["source"], r["action"], r["target"], r["outcome"],
                 r["status"]] for r in rows])

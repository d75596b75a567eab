"""Which credential a CLI command sends: ``--token`` / ``CAXTON_TOKEN``, else the admin key a
server on this machine wrote into its data dir, when the command talks to that server."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from caxton.config import default_data_dir

SERVER_FILE = "server.json"
ADMIN_TOKEN = "admin.token"  # noqa: S105 - a file name


def token_for(target: str) -> str | None:
    """The token to send to ``target`` (a URL, or HOST:PORT for gRPC), if any."""
    explicit = os.environ.get("CAXTON_TOKEN", "").strip()
    if explicit:
        return explicit
    data_dir = Path(os.environ.get("CAXTON_DATA_DIR") or default_data_dir()).expanduser()
    if not _same_server(data_dir, target):
        return None
    try:
        return (data_dir / ADMIN_TOKEN).read_text().strip() or None
    except OSError:  # not readable by this user: the server's owner has to share a key
        return None


def _same_server(data_dir: Path, target: str) -> bool:
    """Whether the server running on ``data_dir`` (its server file) is the one at ``target``,
    on this machine: the same port, and a loopback host or the very address it wrote."""
    try:
        written = orjson.loads((data_dir / SERVER_FILE).read_bytes())
    except (OSError, ValueError):
        return False
    host, port = _host_port(target)
    for address in (written.get("url", ""), written.get("grpc", "")):
        their_host, their_port = _host_port(str(address))
        if port is not None and port == their_port and (host == their_host or _loopback(host)):
            return True
    return False


def _host_port(target: str) -> tuple[str, int | None]:
    parts = urlsplit(target if "://" in target else f"//{target}")
    try:
        return (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "", None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

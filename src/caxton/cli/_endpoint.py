"""Where a client command finds the server, and how it speaks TLS to it.

The REST URL: ``--server``, else ``CAXTON_SERVER``, else the URL the server running on the data
directory wrote into its ``server.json`` (the directory of ``CAXTON_DATA_DIR``, else the default
one), else ``http://127.0.0.1:8080``. The gRPC target likewise (``--grpc-server``,
``CAXTON_GRPC_SERVER``, ``server.json``, ``127.0.0.1:50051``).

TLS: an ``https://`` URL is verified against ``--tls-ca`` (``CAXTON_TLS_CA``), else, when the
server was found through its data directory, that directory's ``tls/ca.crt`` (what
``caxton security init-ca`` wrote), else the system's CAs. ``--tls-cert``/``--tls-key``
(``CAXTON_TLS_CERT``/``CAXTON_TLS_KEY``) present a client certificate. gRPC uses TLS when the
REST URL is ``https://`` (a server has TLS on every listener or on none), or when a CA or a
client certificate is given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import orjson

from caxton.cli._credentials import token_for
from caxton.cli._errors import EXIT_USAGE, CliError
from caxton.errors import ConfigError
from caxton.security.client_tls import ClientTls

DEFAULT_SERVER = "http://127.0.0.1:8080"
DEFAULT_GRPC_SERVER = "127.0.0.1:50051"
SERVER_FILE = "server.json"  # as caxton.server writes it


@dataclass(frozen=True)
class Endpoint:
    url: str  # the REST base URL
    grpc: str  # the gRPC HOST:PORT
    tls: ClientTls | None  # how to speak TLS; None: plain (an http:// URL, nothing given)
    token: str | None = None  # the API key or JWT to send (see caxton.cli._credentials)

    @property
    def rest_tls(self) -> ClientTls | None:
        return (self.tls or ClientTls()) if self.url.startswith("https://") else None


def _running_server(data_dir: Path) -> dict[str, object] | None:
    """The server file of a server still running on ``data_dir``."""
    try:
        info = orjson.loads((data_dir / SERVER_FILE).read_bytes())
        os.kill(int(info["pid"]), 0)  # a file left by a server that died names nobody
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if isinstance(info, dict) else None


def _data_dir() -> Path:
    from caxton.config import default_data_dir  # noqa: PLC0415

    given = os.environ.get("CAXTON_DATA_DIR")
    return Path(given).expanduser() if given else default_data_dir()


def _file(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value).expanduser() if value else None


def resolve(server: str | None, grpc_server: str | None) -> Endpoint:
    url = server or os.environ.get("CAXTON_SERVER") or None  # empty: not given
    grpc = grpc_server or os.environ.get("CAXTON_GRPC_SERVER") or None
    found: Path | None = None
    if url is None or grpc is None:
        data_dir = _data_dir()
        info = _running_server(data_dir)
        if info is not None:
            if url is None:
                url, found = str(info.get("url", "")) or None, data_dir
            grpc = grpc or str(info.get("grpc", "")) or None
    url = url or DEFAULT_SERVER
    if not url.startswith(("http://", "https://")):
        url = "http://" + url
    ca, cert, key = _file("CAXTON_TLS_CA"), _file("CAXTON_TLS_CERT"), _file("CAXTON_TLS_KEY")
    if ca is None and found is not None and (found / "tls" / "ca.crt").is_file():
        ca = found / "tls" / "ca.crt"
    tls = None
    if url.startswith("https://") or ca is not None or cert is not None:
        try:
            tls = ClientTls(ca, cert, key)
        except ConfigError as exc:
            raise CliError(f"{exc.message} (--tls-cert and --tls-key)", EXIT_USAGE) from None
    grpc = grpc or DEFAULT_GRPC_SERVER
    return Endpoint(url.rstrip("/"), grpc, tls, token_for(url) or token_for(grpc))


__all__ = ["DEFAULT_GRPC_SERVER", "DEFAULT_SERVER", "Endpoint", "resolve"]

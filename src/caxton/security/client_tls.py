"""The client side of TLS: which CAs to trust and which certificate to present.

One description for every client: the CLI's REST transport and the outbound MTP (httpx, with
``ssl_context``) and the gRPC clients (``channel_credentials``).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from caxton.errors import ConfigError

if TYPE_CHECKING:  # grpc is imported only where a gRPC channel is made (the CLI starts faster)
    import grpc


@dataclass(frozen=True)
class ClientTls:
    """``ca_file``: the CA certificates (PEM) the server's certificate must chain to; None:
    the system's. ``cert_file`` and ``key_file``: a client certificate to present (mTLS)."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ConfigError("a client certificate needs its key: give both the certificate "
                              "and the key file, or neither")

    def ssl_context(self, *, also_system: bool = False) -> ssl.SSLContext:
        """For httpx's ``verify=``: trusts ``ca_file`` (and the system's CAs too when
        ``also_system``, or when there is no ``ca_file``)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the server and its name
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.ca_file is None or also_system:
            context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        if self.ca_file is not None:
            try:
                context.load_verify_locations(cafile=self.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"cannot read the CA file {self.ca_file}: "
                                  f"{_why(exc)}") from None
        if self.cert_file is not None and self.key_file is not None:
            try:
                context.load_cert_chain(self.cert_file, self.key_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"cannot load the client certificate {self.cert_file} with "
                                  f"its key {self.key_file}: {_why(exc)}") from None
        return context

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """For ``grpc.secure_channel``."""
        import grpc  # noqa: PLC0415

        roots = _read(self.ca_file, "CA file") if self.ca_file is not None else None
        cert = key = None
        if self.cert_file is not None and self.key_file is not None:
            cert = _read(self.cert_file, "client certificate")
            key = _read(self.key_file, "client key")
            self.ssl_context()  # the same checks as REST: a key that fits, readable PEM
        return grpc.ssl_channel_credentials(roots, key, cert)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def _why(exc: OSError | ssl.SSLError) -> str:
    return str(exc.strerror or exc) if not isinstance(exc, ssl.SSLError) else (
        exc.reason or str(exc))


__all__ = ["ClientTls"]

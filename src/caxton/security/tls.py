"""The server's TLS: its certificate and key read from files, for every listener, and read
again on request (SIGHUP) without a restart.

REST (with the MTP's ``/acc``) and the metrics port take one ``ssl.SSLContext`` for as long as
they listen. To change the certificate under them, that first context's SNI callback (run for
every ClientHello, with or without a server name) moves each new connection onto the newest
context: new handshakes present the new certificate and check client certificates against the
new CAs; connections already open keep what they had. gRPC takes "dynamic" credentials: grpcio
asks ``_fetch`` before each handshake, which hands over a new configuration once per reload.

A reload that fails (a missing or unreadable file, a key that does not match the certificate,
an expired certificate) changes nothing: the server keeps serving the certificate it has and
logs why.
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import grpc
import structlog
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from caxton.errors import ConfigError

log = structlog.get_logger("caxton.tls")
_VERIFY = {"off": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}


@dataclass(frozen=True)
class TlsFiles:
    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None


@dataclass(frozen=True)
class TlsMaterial:
    """One consistent reading of the files."""

    cert_pem: bytes  # the certificate, then its chain
    key_pem: bytes
    client_ca_pem: bytes | None
    certificate: x509.Certificate

    @property
    def serial(self) -> int:
        return self.certificate.serial_number


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def read_material(files: TlsFiles, now: dt.datetime | None = None) -> TlsMaterial:
    """Read and check the files: ConfigError naming the file and what is wrong with it."""
    cert_pem = _read(files.cert_file, "TLS certificate (tls_cert_file)")
    key_pem = _read(files.key_file, "TLS key (tls_key_file)")
    try:
        chain = x509.load_pem_x509_certificates(cert_pem)
    except ValueError:
        raise ConfigError(f"the TLS certificate {files.cert_file} is not a PEM certificate"
                          ) from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"the TLS key {files.key_file} is not an unencrypted PEM private "
                          f"key ({exc})") from None
    leaf = chain[0]
    if key.public_key() != leaf.public_key():
        raise ConfigError(f"the TLS key {files.key_file} does not belong to the certificate "
                          f"{files.cert_file}")
    moment = now or dt.datetime.now(dt.UTC)
    if not leaf.not_valid_before_utc <= moment <= leaf.not_valid_after_utc:
        raise ConfigError(f"the TLS certificate {files.cert_file} is valid only from "
                          f"{leaf.not_valid_before_utc:%Y-%m-%d %H:%M} to "
                          f"{leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    ca_pem = None
    if files.client_ca_file is not None:
        ca_pem = _read(files.client_ca_file, "client CA file (tls_client_ca_file)")
        try:
            x509.load_pem_x509_certificates(ca_pem)
        except ValueError:
            raise ConfigError(f"the client CA file {files.client_ca_file} holds no PEM "
                              "certificate") from None
    return TlsMaterial(cert_pem, key_pem, ca_pem, leaf)


def server_context(material: TlsMaterial, files: TlsFiles, client_certs: str) -> ssl.SSLContext:
    """An SSLContext for an HTTP listener; ``client_certs``: off, optional or required."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_RENEGOTIATION  # a client-driven CPU drain in TLS 1.2
    context.set_alpn_protocols(["http/1.1"])
    try:
        # ssl reads keys only from files; the bytes checked above came from the same files.
        context.load_cert_chain(files.cert_file, files.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS certificate {files.cert_file} with its key "
                          f"{files.key_file}: {exc}") from None
    if client_certs != "off" and material.client_ca_pem is not None:
        context.load_verify_locations(cadata=material.client_ca_pem.decode("ascii", "replace"))
        context.verify_mode = _VERIFY[client_certs]
    return context


class ServerTls:
    """The server's certificate for REST (``rest_context``), the metrics port (the same
    context) and gRPC (``grpc_credentials``), reloaded by ``reload``."""

    def __init__(self, files: TlsFiles, *, rest_client_certs: str = "off",
                 grpc_client_certs: str = "off") -> None:
        self.files = files
        self._rest_mode = rest_client_certs
        self._grpc_required = grpc_client_certs == "required"
        self.material = read_material(files)
        self.rest_context = server_context(self.material, files, rest_client_certs)
        self.rest_context.sni_callback = self._newest
        self._current = self.rest_context
        self._lock = threading.Lock()
        self._grpc_pending: grpc.ServerCertificateConfiguration | None = None
        self.reloads = 0

    def grpc_credentials(self) -> grpc.ServerCredentials:
        return grpc.dynamic_ssl_server_credentials(
            self._grpc_config(self.material),
            self._fetch,  # type: ignore[arg-type]  # grpcio documents None as "keep"; its stub not
            require_client_authentication=self._grpc_required)

    def reload(self) -> bool:
        """Read the files again; True when the new certificate is in use, False (logged, the
        old one kept) when they are not usable."""
        try:
            material = read_material(self.files)
            context = server_context(material, self.files, self._rest_mode)
        except ConfigError as exc:
            log.error("TLS reload failed; still serving the previous certificate",
                      reason=exc.message, serial=f"{self.material.serial:x}")
            return False
        with self._lock:
            self.material = material
            self._current = context
            self._grpc_pending = self._grpc_config(material)
            self.reloads += 1
        log.info("TLS certificate reloaded", serial=f"{material.serial:x}",
                 subject=material.certificate.subject.rfc4514_string(),
                 not_after=material.certificate.not_valid_after_utc.isoformat())
        return True

    def _grpc_config(self, material: TlsMaterial) -> grpc.ServerCertificateConfiguration:
        roots = material.client_ca_pem if self._grpc_required else None
        return grpc.ssl_server_certificate_configuration([(material.key_pem, material.cert_pem)],
                                                         root_certificates=roots)

    def _fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """grpcio's question before each handshake: a new configuration, or None (keep)."""
        with self._lock:
            pending, self._grpc_pending = self._grpc_pending, None
        return pending

    def _newest(self, connection: ssl.SSLObject | ssl.SSLSocket, _server_name: str | None,
                context: ssl.SSLContext) -> None:
        current = self._current
        if current is not context:
            connection.context = current

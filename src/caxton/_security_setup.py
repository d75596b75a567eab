"""The security parts the composition root (``caxton.server``) builds from a ServerConfig:
TLS for the listeners and the outbound MTP, the authenticator and rate limits, the browser
policy. Kept apart so that the root stays one readable start-up sequence."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from caxton.api.rest.guard import BrowserPolicy
from caxton.config import ServerConfig
from caxton.security.authenticator import Authenticator
from caxton.security.client_tls import ClientTls
from caxton.security.jwt_tokens import JwtVerifier
from caxton.security.key_book import KeyBook
from caxton.security.rate_limit import Limits, Rate, RateLimiter
from caxton.security.tls import ServerTls, TlsFiles

log = structlog.get_logger("caxton.server")


def _path(text: str) -> Path | None:
    return Path(text).expanduser() if text else None


def mtp_client_tls(config: ServerConfig) -> ssl.SSLContext:
    """How the outbound MTP checks https:// platforms (the system's CAs and
    ``mtp_tls_ca_file``) and the client certificate it presents to them, if any."""
    return ClientTls(_path(config.mtp_tls_ca_file), _path(config.mtp_tls_cert_file),
                     _path(config.mtp_tls_key_file)).ssl_context(also_system=True)


def server_tls(config: ServerConfig) -> ServerTls | None:
    """The server's certificate, when TLS is on; ConfigError when its files are not usable."""
    cert, key = _path(config.tls_cert_file), _path(config.tls_key_file)
    if cert is None or key is None:
        return None
    return ServerTls(TlsFiles(cert, key, _path(config.tls_client_ca_file)),
                     rest_client_certs=config.rest_client_certs,
                     grpc_client_certs=config.grpc_client_certs)


def on_hangup(tls: ServerTls | None) -> None:
    """SIGHUP: read the certificate files again (new connections get the new certificate)."""
    if tls is None:
        log.info("SIGHUP received; TLS is off, nothing to reload")
        return
    tls.reload()


def authentication(config: ServerConfig, keys: KeyBook) -> tuple[Authenticator, Limits]:
    """The authenticator and rate limits both listeners share; on first start, the admin key."""
    enabled = config.auth == "on"
    if enabled:
        path = keys.ensure_admin_token(config.data_dir)
        # A log line (stderr stays JSON lines under log_format json): where the key is.
        log.info("admin API key (the caxton CLI on this machine reads it)", file=str(path))
    else:
        log.warning("authentication is off: every caller is an admin (auth = \"off\")")
    limits = Limits(
        per_address=RateLimiter(Rate(config.address_rate_limit, config.address_rate_burst)),
        per_token=RateLimiter(Rate(config.token_rate_limit, config.token_rate_burst)),
        failures=RateLimiter(Rate(config.auth_failure_rate_limit, config.auth_failure_burst)))
    settings = config.jwt_settings()  # JWTs: when a key source is configured
    tokens = JwtVerifier(settings) if settings is not None else None
    return Authenticator(keys, enabled=enabled, tokens=tokens), limits


def browser_policy(config: ServerConfig) -> BrowserPolicy:
    names = {"localhost", socket.gethostname().lower(), socket.getfqdn().lower(),
             *config.hosts_allowed}
    if config.acc_url:
        names.add((urlsplit(config.acc_url).hostname or "").lower())
    return BrowserPolicy(hosts=frozenset(names), origins=frozenset(config.origins_allowed))

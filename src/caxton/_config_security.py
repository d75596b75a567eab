"""The checks and conversions of ServerConfig's security settings (auth, rate limits, TLS,
JWT), kept beside the config so that it stays a readable list of settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from caxton.errors import ConfigError
from caxton.security.jwt_settings import JwtSettings

if TYPE_CHECKING:
    from caxton.config import ServerConfig

CLIENT_CERT_MODES = ("off", "optional", "required")
_MAX_SECRET_BYTES = 4096


def comma_list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def check_security(config: ServerConfig) -> None:
    if config.auth not in ("on", "off"):
        raise ConfigError(f"auth must be 'on' or 'off', not {config.auth!r}")
    for rate, burst in (("token_rate_limit", "token_rate_burst"),
                        ("address_rate_limit", "address_rate_burst"),
                        ("auth_failure_rate_limit", "auth_failure_burst")):
        if not 0 <= getattr(config, rate) <= 1e9 or not 1 <= getattr(config, burst) <= 10**9:
            raise ConfigError(f"{rate} must be from 0 (off) to 1e9 and {burst} from 1 to 1e9, "
                              f"not {getattr(config, rate)} and {getattr(config, burst)}")


def check_tls(config: ServerConfig) -> None:
    if bool(config.tls_cert_file) != bool(config.tls_key_file):
        raise ConfigError("tls_cert_file and tls_key_file go together: set both (TLS) or "
                          "neither (plain HTTP and gRPC)")
    if bool(config.mtp_tls_cert_file) != bool(config.mtp_tls_key_file):
        raise ConfigError("mtp_tls_cert_file and mtp_tls_key_file go together: set both "
                          "or neither")
    if config.rest_client_certs not in CLIENT_CERT_MODES:
        raise ConfigError(f"rest_client_certs must be off, optional or required, not "
                          f"{config.rest_client_certs!r}")
    if config.grpc_client_certs not in ("off", "required"):
        why = (" (gRPC cannot ask for a client certificate without requiring it)"
               if config.grpc_client_certs == "optional" else "")
        raise ConfigError(f"grpc_client_certs must be off or required, not "
                          f"{config.grpc_client_certs!r}{why}")
    asking = [key for key in ("rest_client_certs", "grpc_client_certs")
              if getattr(config, key) != "off"]
    if asking and not config.tls_enabled:
        raise ConfigError(f"{asking[0]} needs TLS: set tls_cert_file and tls_key_file")
    if asking and not config.tls_client_ca_file:
        raise ConfigError(f"{asking[0]} needs tls_client_ca_file, the CA certificates "
                          "client certificates must be signed by")
    if config.tls_client_ca_file and not asking:
        raise ConfigError("tls_client_ca_file is set but no listener asks for client "
                          "certificates: set rest_client_certs or grpc_client_certs")


def _jwt_sources(config: ServerConfig) -> bool:
    return bool(config.jwt_hs256_secret_file or config.jwt_public_key_files
                or config.jwt_jwks_file or config.oidc_jwks_url)


def check_jwt(config: ServerConfig) -> None:
    """The JWT settings' shape; the secret file is read by ``jwt_settings``."""
    if _jwt_sources(config):
        if config.oidc_jwks_url and not (config.jwt_issuer and config.jwt_audience):
            # A provider signs for every application it serves: both pin it to this one.
            raise ConfigError("oidc_jwks_url needs jwt_issuer and jwt_audience")
        # A stand-in secret of the most any HMAC algorithm needs: its file is read later.
        _jwt_settings(config, b"\x00" * 64 if config.jwt_hs256_secret_file else None)
        return
    stray = [key for key in ("jwt_issuer", "jwt_audience", "jwt_algorithms")
             if getattr(config, key)]
    if stray:
        raise ConfigError(f"{', '.join(stray)} set but no JWT key source (jwt_hs256_secret_"
                          "file, jwt_public_key_files, jwt_jwks_file or oidc_jwks_url)")


def jwt_settings(config: ServerConfig) -> JwtSettings | None:
    """The JWT verifier's settings (reading the secret file), or None when no key source is
    configured."""
    if not _jwt_sources(config):
        return None
    secret = None
    if config.jwt_hs256_secret_file:
        path = Path(config.jwt_hs256_secret_file).expanduser()
        try:
            with path.open("rb") as handle:
                secret = handle.read(_MAX_SECRET_BYTES + 1).strip()
        except OSError as exc:
            raise ConfigError(f"jwt_hs256_secret_file: cannot read {path}: "
                              f"{exc.strerror}") from None
        if len(secret) > _MAX_SECRET_BYTES:
            raise ConfigError(f"jwt_hs256_secret_file: {path} is larger than "
                              f"{_MAX_SECRET_BYTES} bytes; is it the secret?")
    return _jwt_settings(config, secret)


def _jwt_settings(config: ServerConfig, secret: bytes | None) -> JwtSettings:
    try:
        return JwtSettings(
            hs256_secret=secret,
            public_key_files=tuple(Path(p).expanduser()
                                   for p in comma_list(config.jwt_public_key_files)),
            jwks_file=Path(config.jwt_jwks_file).expanduser() if config.jwt_jwks_file else None,
            jwks_url=config.oidc_jwks_url or None,
            issuer=config.jwt_issuer or None,
            audience=config.jwt_audience or None,
            leeway_s=config.jwt_leeway_s,
            algorithms=comma_list(config.jwt_algorithms),
            role_claim=config.jwt_role_claim,
            agents_claim=config.jwt_agents_claim,
            jwks_cache_s=config.oidc_jwks_cache_s,
            jwks_timeout_s=config.oidc_jwks_timeout_s,
            jwks_refetch_interval_s=config.oidc_jwks_refetch_interval_s,
        )
    except ConfigError as exc:
        raise ConfigError(exc.message.replace("JWT: ", "jwt/oidc settings: ", 1)) from None

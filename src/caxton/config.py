"""Server settings: a TOML file, then ``CAXTON_*`` environment variables, then flags (flags win).

``ServerConfig`` is the user-facing shape; the composition root converts it into the settings
each part takes, so no part reads the environment itself.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from caxton._config_security import (
    check_jwt,
    check_security,
    check_tls,
    jwt_settings,
)
from caxton.domain.limits import CEILING_SETTINGS, DEFAULT_LIMITS, LimitCeilings, ResourceLimits
from caxton.domain.nesting import CONTENT_DEPTH_CEILING, DEFAULT_MAX_CONTENT_DEPTH
from caxton.domain.platforms import PlatformEntry, parse_book
from caxton.errors import CaxtonError, ConfigError, InvalidMessageError
from caxton.security.jwt_settings import JwtSettings

ENV_PREFIX = "CAXTON_"
_PLATFORM = re.compile(r"[A-Za-z0-9_.:/+~-]{1,128}")
_CEILINGS = LimitCeilings()
_MAX_BUDGET = 2**50  # 1 PiB: far beyond any machine, low enough to be an obvious typo
_LIST_SETTINGS = ("jwt_public_key_files", "jwt_algorithms")  # a TOML array, or comma-separated


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "caxton"


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    # The gRPC management API listens beside REST; an empty grpc_host means "the same as host".
    grpc_host: str = ""
    grpc_port: int = 50051
    # Also serve /metrics on a port of its own (for scrapers kept off the API port); -1: off.
    metrics_port: int = -1
    data_dir: Path = field(default_factory=default_data_dir)
    workers: int = 4
    log_level: str = "info"
    log_format: str = "auto"  # auto | json | console
    durability: str = "full"  # full: fsync per group commit | normal: survives process crashes
    # The API's event loop: uvloop (libuv, the faster) or asyncio (the standard library's).
    event_loop: str = "uvloop"
    # The REST listener's HTTP/1.1 parser: httptools (llhttp, C) or h11 (pure Python).
    http_parser: str = "httptools"
    max_request_bytes: int = 1024 * 1024
    # HTTP: request headers must arrive within this long; a body may pause at most this long;
    # an idle kept-alive connection is closed after this long; connections beyond the cap 503.
    http_header_timeout_s: float = 10.0
    http_body_timeout_s: float = 30.0
    http_keep_alive_s: float = 5.0
    max_connections: int = 1000
    max_module_bytes: int = 32 * 1024 * 1024
    # How deeply message content from clients and other platforms may nest arrays and objects.
    max_content_depth: int = DEFAULT_MAX_CONTENT_DEPTH
    # Deploys that may read, compile and start a module at once; more wait, up to the queue.
    max_concurrent_deploys: int = 2
    max_queued_deploys: int = 16
    deploy_upload_timeout_s: float = 120.0  # a deploy's body must be in by then (holds a slot)
    mailbox_capacity: int = 10_000
    failure_threshold: int = 10
    max_attempts: int = 3
    retry_backoff_ms: int = 50
    max_write_backlog: int = 50_000
    max_state_bytes: int = 64 * 1024 * 1024  # per agent, keys plus values
    # Against loops and fork bombs (docs/delivery.md#loops-and-fork-bombs): the answers in a
    # row a cascade of messages may make without a new request, and the messages it may have
    # in flight at once. Past either, the cascade is cut.
    max_hops: int = 1000
    max_cascade_in_flight: int = 1000
    otlp_endpoint: str = ""  # OTLP/HTTP base URL; empty: the OTEL_* variables decide (off)
    shutdown_timeout_s: float = 10.0
    # Conversations: an open one with no message for this long expires; any is forgotten (with
    # its messages) this long after its last message.
    conversation_idle_timeout_s: float = 3600.0
    conversation_retention_s: float = 7 * 86400.0
    max_wait_s: float = 300.0
    # Exactly-once acceptance: a message id a sender chose is remembered this long (a retry
    # within it is answered with the first acceptance), the newest dedup_memory of them in memory.
    dedup_window_s: float = 86400.0
    dedup_memory: int = 100_000
    # Start even when the database file is empty or missing although the data dir has other
    # Caxton files (a new, empty database is created). Off: such a start is refused.
    init: bool = False
    # FIPA: our agents are name@<platform_name> to other platforms, which reach us at acc_url
    # (the FIPA HTTP MTP endpoint; empty: http://<host>:<port>/acc where REST listens).
    platform_name: str = "caxton"
    acc_url: str = ""
    # Hosts the outbound MTP may POST to besides the platform address book's URLs: comma-
    # separated patterns of host or host:port, with * wildcards (e.g. "*.example.org,
    # 10.0.0.7:7778"); empty: none; "*": any host. Never the server's own listeners.
    mtp_allowed_hosts: str = ""
    # The platform address book's fixed entries: where agents NAME@PLATFORM of other platforms
    # are reached, "NAME=URL[ URL...], ..." (a [platforms] table in the config file); more are
    # added with `caxton platforms add`.
    platforms: str = ""
    # TLS (docs/security.md#tls-and-mtls): the server's certificate (PEM, the chain after it)
    # and its private key. Both set: REST, the MTP's /acc, gRPC and the metrics port speak
    # TLS only; SIGHUP reloads the files. Empty: plain HTTP and gRPC.
    tls_cert_file: str = ""
    tls_key_file: str = ""
    # Client certificates (mTLS), signed by the CAs in tls_client_ca_file, per listener:
    # off (not asked for), optional (asked for, verified when given), required. gRPC can only
    # be off or required (grpcio cannot ask for a certificate without requiring it).
    tls_client_ca_file: str = ""
    rest_client_certs: str = "off"
    grpc_client_certs: str = "off"
    # The outbound MTP to https:// platforms: CAs trusted beside the system's, and a client
    # certificate (and key) to present to platforms that ask for one.
    mtp_tls_ca_file: str = ""
    mtp_tls_cert_file: str = ""
    mtp_tls_key_file: str = ""
    default_fuel: int = DEFAULT_LIMITS.fuel
    default_memory_bytes: int = DEFAULT_LIMITS.memory_bytes
    default_timeout_ms: int = DEFAULT_LIMITS.timeout_ms
    default_max_message_bytes: int = DEFAULT_LIMITS.max_message_bytes
    default_max_sends_per_message: int = DEFAULT_LIMITS.max_sends_per_message
    # Ceilings: the most a client may ask for one agent (a deploy above one is refused, 400).
    max_agent_fuel: int = _CEILINGS.fuel
    max_agent_memory_bytes: int = _CEILINGS.memory_bytes
    max_agent_timeout_ms: int = _CEILINGS.timeout_ms
    max_agent_message_bytes: int = _CEILINGS.max_message_bytes
    max_agent_host_calls: int = _CEILINGS.max_host_calls
    max_agent_sends_per_message: int = _CEILINGS.max_sends_per_message
    # The sum of the memory limits of all deployed agents may not exceed this (deploy: 409).
    max_total_memory_bytes: int = 8 * 1024**3
    # Address space each agent's linear memory reserves (sandbox/engine.py says why 16 MiB);
    # 4 GiB is wasmtime's default: no bounds checks, but ~30,000 live agents at most.
    memory_reservation_bytes: int = 16 * 1024**2
    # Hibernation (docs/agents.md#hibernation): an agent with no message for this long has its
    # sandbox dropped, and rebuilt (init run again) for its next message. Only what it keeps
    # in the state store survives. 0: off.
    hibernate_idle_s: float = 0.0
    # Security (docs/security.md). auth "off" serves every caller as admin: for a throw-away
    # local server only. /metrics on the API port needs metrics.read unless metrics_open.
    auth: str = "on"
    metrics_open: bool = False
    # Host names (besides localhost, the host's own names and IP addresses) the API answers
    # to, comma-separated; "*": any (DNS rebinding protection off). Web origins whose pages may
    # call the API (CORS); empty: none.
    allowed_hosts: str = ""
    allowed_origins: str = ""
    # Token buckets (requests per second, burst): per credential (admins are not limited), per
    # source address (every request but /health and /ready), and refused credentials per
    # source address (brute force). A rate of 0 turns that limit off.
    token_rate_limit: float = 200.0
    token_rate_burst: int = 400
    address_rate_limit: float = 2000.0
    address_rate_burst: int = 4000
    auth_failure_rate_limit: float = 1.0
    auth_failure_burst: int = 20
    # Bearer JWTs (docs/security-jwt.md): any key source of the four turns them on. The HS256
    # secret is read from a file, so it is in neither the process list nor the environment.
    jwt_hs256_secret_file: str = ""
    jwt_public_key_files: str = ""  # comma-separated PEM public keys or certificates
    jwt_jwks_file: str = ""  # a JWK Set file, re-read when it changes
    oidc_jwks_url: str = ""  # the provider's jwks_uri (https in production)
    jwt_issuer: str = ""  # the iss a token must name (required with oidc_jwks_url)
    jwt_audience: str = ""  # a value its aud must hold (required with oidc_jwks_url)
    jwt_algorithms: str = ""  # comma-separated; empty: the ones the configured keys verify
    jwt_leeway_s: float = 30.0
    jwt_role_claim: str = "caxton_role"
    jwt_agents_claim: str = "caxton_agents"
    oidc_jwks_cache_s: float = 300.0
    oidc_jwks_timeout_s: float = 5.0
    oidc_jwks_refetch_interval_s: float = 30.0

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be from 0 to 65535, not {self.port}")
        if not -1 <= self.metrics_port <= 65535:
            raise ConfigError(f"metrics_port must be from -1 (off) to 65535, not "
                              f"{self.metrics_port}")
        if not 0 <= self.grpc_port <= 65535:
            raise ConfigError(f"grpc_port must be from 0 to 65535, not {self.grpc_port}")
        if not 1 <= self.workers <= 256:
            raise ConfigError(f"workers must be from 1 to 256, not {self.workers}")
        if not 1 <= self.max_content_depth <= CONTENT_DEPTH_CEILING:
            raise ConfigError(f"max_content_depth must be from 1 to {CONTENT_DEPTH_CEILING}, not "
                              f"{self.max_content_depth}")
        for key in ("http_header_timeout_s", "http_body_timeout_s", "http_keep_alive_s",
                    "deploy_upload_timeout_s"):
            if not 0 < getattr(self, key) <= 3600:
                raise ConfigError(f"{key} must be more than 0 and at most 3600, not "
                                  f"{getattr(self, key)}")
        if not 1 <= self.max_connections <= 1_000_000:
            raise ConfigError(f"max_connections must be from 1 to 1000000, not "
                              f"{self.max_connections}")
        if not 1 <= self.max_concurrent_deploys <= 64:
            raise ConfigError(f"max_concurrent_deploys must be from 1 to 64, not "
                              f"{self.max_concurrent_deploys}")
        if not 0 <= self.max_queued_deploys <= 10_000:
            raise ConfigError(f"max_queued_deploys must be from 0 to 10000, not "
                              f"{self.max_queued_deploys}")
        if not 1 <= self.max_attempts <= 100:
            raise ConfigError(f"max_attempts must be from 1 to 100, not {self.max_attempts}")
        if not 1 <= self.max_hops <= 999_999_999:  # X-caxton-hops carries up to 9 digits
            raise ConfigError(f"max_hops must be from 1 to 999999999 (answers in a row), not "
                              f"{self.max_hops}")
        if not 2 <= self.max_cascade_in_flight <= 10**9:
            # 2: a message being handled and the answer it sends are in flight together
            raise ConfigError(f"max_cascade_in_flight must be from 2 to 1000000000 (messages in"
                              f" flight per cascade), not {self.max_cascade_in_flight}")
        if self.conversation_idle_timeout_s <= 0 or self.conversation_retention_s <= 0:
            raise ConfigError("conversation_idle_timeout_s and conversation_retention_s must be"
                              " positive")
        if self.dedup_window_s <= 0 or self.dedup_memory < 1:
            raise ConfigError("dedup_window_s must be positive and dedup_memory at least 1")
        self._check_platform()
        if self.durability not in ("full", "normal"):
            raise ConfigError(f"durability must be 'full' or 'normal', not {self.durability!r}")
        if self.event_loop not in ("uvloop", "asyncio"):
            raise ConfigError(f"event_loop must be 'uvloop' or 'asyncio', not {self.event_loop!r}")
        if self.http_parser not in ("httptools", "h11"):
            raise ConfigError(f"http_parser must be 'httptools' or 'h11', not "
                              f"{self.http_parser!r}")
        if self.log_format not in ("auto", "json", "console"):
            raise ConfigError(f"log_format must be auto, json or console, not {self.log_format!r}")
        if self.log_level.lower() not in ("debug", "info", "warning", "error"):
            raise ConfigError("log_level must be debug, info, warning or error")
        try:
            defaults = self.default_limits()
        except CaxtonError as exc:
            raise ConfigError(f"default limits: {exc.message}") from None
        self._check_ceilings(defaults)
        self._check_security()

    def _check_platform(self) -> None:
        if not _PLATFORM.fullmatch(self.platform_name):
            raise ConfigError(f"platform_name must be 1 to 128 letters, digits or '_.:/+~-', "
                              f"not {self.platform_name!r}")
        if self.acc_url and not self.acc_url.lower().startswith(("http://", "https://")):
            raise ConfigError(f"acc_url must be an http:// or https:// URL, not {self.acc_url!r}")
        try:
            book = parse_book(self.platforms)
        except InvalidMessageError as exc:
            raise ConfigError(f"platforms: {exc.reason}") from None
        if any(entry.name.lower() == self.platform_name.lower() for entry in book):
            raise ConfigError(f"platforms: {self.platform_name!r} is this server's own "
                              "platform_name")

    @property
    def hosts_allowed(self) -> tuple[str, ...]:
        return tuple(h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip())

    @property
    def origins_allowed(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.allowed_origins.split(",")
                     if o.strip())

    @property
    def tls_enabled(self) -> bool:
        return bool(self.tls_cert_file)

    def _check_security(self) -> None:
        check_security(self)
        check_tls(self)
        check_jwt(self)

    def jwt_settings(self) -> JwtSettings | None:
        """The JWT verifier's settings (reading the secret file), or None when no key source
        is configured."""
        return jwt_settings(self)

    def _check_ceilings(self, defaults: ResourceLimits) -> None:
        try:
            ceilings = self.limit_ceilings()
        except CaxtonError as exc:
            raise ConfigError(f"{CEILING_SETTINGS.get(getattr(exc, 'field', ''), 'ceilings')}: "
                              f"{getattr(exc, 'reason', exc.message)}") from None
        for name, setting in CEILING_SETTINGS.items():
            default, ceiling = getattr(defaults, name), getattr(ceilings, name)
            if default > ceiling:
                raise ConfigError(f"the default {name} ({default}) is above {setting} "
                                  f"({ceiling}): agents deployed without it would be refused")
        if not 0 <= self.memory_reservation_bytes <= 4 * 1024**3:
            raise ConfigError(f"memory_reservation_bytes must be from 0 to 4294967296 (4 GiB), "
                              f"not {self.memory_reservation_bytes}")
        if not 0 <= self.hibernate_idle_s <= 30 * 86400:
            raise ConfigError(f"hibernate_idle_s must be from 0 (off) to 2592000 (30 days), not "
                              f"{self.hibernate_idle_s}")
        if not defaults.memory_bytes <= self.max_total_memory_bytes <= _MAX_BUDGET:
            raise ConfigError(f"max_total_memory_bytes must be from the default memory_bytes "
                              f"({defaults.memory_bytes}) to {_MAX_BUDGET}, not "
                              f"{self.max_total_memory_bytes}")

    def limit_ceilings(self) -> LimitCeilings:
        return LimitCeilings(
            fuel=self.max_agent_fuel,
            memory_bytes=self.max_agent_memory_bytes,
            timeout_ms=self.max_agent_timeout_ms,
            max_message_bytes=self.max_agent_message_bytes,
            max_host_calls=self.max_agent_host_calls,
            max_sends_per_message=self.max_agent_sends_per_message,
        )

    def default_limits(self) -> ResourceLimits:
        return ResourceLimits(
            fuel=self.default_fuel,
            memory_bytes=self.default_memory_bytes,
            timeout_ms=self.default_timeout_ms,
            max_message_bytes=self.default_max_message_bytes,
            max_sends_per_message=self.default_max_sends_per_message,
        )

    @property
    def mtp_allowed(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.mtp_allowed_hosts.split(",") if p.strip())

    @property
    def platform_book(self) -> tuple[PlatformEntry, ...]:
        """The address book's entries this config fixes."""
        return parse_book(self.platforms)

    @property
    def grpc_listen_host(self) -> str:
        """Where the gRPC API listens: ``grpc_host``, else the REST ``host``."""
        return self.grpc_host or self.host

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["data_dir"] = str(self.data_dir)
        return out


def _list_text(name: str, value: Any) -> Any:
    """A TOML array of strings for a comma-separated setting, in the setting's text form."""
    if not isinstance(value, list):
        return value
    if not all(isinstance(v, str) and "," not in v for v in value):
        raise ConfigError(f"setting '{name}': give a list of strings without commas")
    return ", ".join(value)


def _coerce(name: str, raw: Any, kind: Any, *, from_text: bool) -> Any:
    """Convert a setting. Environment and flags give text; a TOML file gives typed values,
    which must already be of the right type (no silent truncation of 1.5 to 1)."""
    kind = getattr(kind, "__name__", kind)
    bad = ConfigError(f"setting '{name}': {raw!r} is not a valid {kind}")
    if not from_text:
        ok = {
            "int": isinstance(raw, int) and not isinstance(raw, bool),
            "float": isinstance(raw, int | float) and not isinstance(raw, bool),
            "Path": isinstance(raw, str | Path),
            "bool": isinstance(raw, bool),
        }.get(kind, isinstance(raw, str))
        if not ok:
            raise bad
    try:
        if kind == "Path":
            return Path(str(raw)).expanduser()
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            return _boolean(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise bad from None


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def _book_text(table: dict[str, Any]) -> str:
    """A config file's ``[platforms]`` table (``NAME = "URL"`` or ``NAME = ["URL", ...]``) in the
    setting's text form."""
    entries = []
    for name, urls in table.items():
        listed = [urls] if isinstance(urls, str) else urls
        if not isinstance(listed, list) or not all(isinstance(u, str) for u in listed):
            raise ConfigError(f"config [platforms] {name}: give a URL or a list of URLs")
        if any("," in u or "=" in u or not u.strip() for u in (name, *listed)):
            raise ConfigError(f"config [platforms] {name}: names and URLs cannot hold ',' or '='")
        entries.append(f"{name}={' '.join(listed)}")
    return ", ".join(entries)


def load_config(
    file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ServerConfig:
    env = os.environ if env is None else env
    kinds = {f.name: f.type for f in fields(ServerConfig)}
    values: dict[str, Any] = {}
    if file is None and env.get(ENV_PREFIX + "CONFIG"):
        file = Path(env[ENV_PREFIX + "CONFIG"])
    if file is not None:
        try:
            data = tomllib.loads(file.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {file} is not valid TOML: {exc}") from None
        limits = data.pop("limits", {})
        if not isinstance(limits, dict):
            raise ConfigError("config [limits] must be a table")
        for key, value in limits.items():
            data[f"default_{key}"] = value
        if isinstance(data.get("platforms"), dict):
            data["platforms"] = _book_text(data["platforms"])
        for key in _LIST_SETTINGS:
            if key in data:
                data[key] = _list_text(key, data[key])
        for key, value in data.items():
            if key not in kinds:
                raise ConfigError(f"config file {file}: unknown setting '{key}'")
            values[key] = _coerce(key, value, kinds[key], from_text=False)
    for key, kind in kinds.items():
        raw = env.get(ENV_PREFIX + key.upper())
        if raw is not None and raw != "":
            values[key] = _coerce(key, raw, kind, from_text=True)
    for key, value in (overrides or {}).items():
        if key not in kinds:
            raise ConfigError(f"unknown setting '{key}'")
        if value is not None:
            values[key] = _coerce(key, value, kinds[key], from_text=isinstance(value, str))
    return ServerConfig(**values)

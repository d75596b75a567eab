"""Unit tests for caxton.config: file, environment and override layering, and validation.

Every call passes ``env`` explicitly so the tests do not depend on the real environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from caxton.config import ENV_PREFIX, ServerConfig, load_config
from caxton.domain.limits import DEFAULT_LIMITS, ResourceLimits
from caxton.errors import CaxtonError, ConfigError

NO_ENV: dict[str, str] = {}


def toml(tmp_path: Path, text: str, name: str = "caxton.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def config_error(**kwargs: Any) -> str:
    kwargs.setdefault("env", NO_ENV)
    with pytest.raises(ConfigError) as info:
        load_config(**kwargs)
    assert isinstance(info.value, CaxtonError)
    assert info.value.code == "invalid_config"
    return info.value.message


def test_defaults_without_file_env_or_overrides() -> None:
    config = load_config(env=NO_ENV)
    assert config.host == "127.0.0.1"
    assert config.port == 8080
    assert config.workers == 4
    assert config.durability == "full"
    assert config.log_format == "auto"
    assert config.default_limits() == DEFAULT_LIMITS


def test_env_prefix() -> None:
    assert ENV_PREFIX == "CAXTON_"


def test_file_values_are_read(tmp_path: Path) -> None:
    path = toml(tmp_path, 'host = "0.0.0.0"\nport = 9000\nworkers = 8\n'
                          'shutdown_timeout_s = 2.5\ndata_dir = "/srv/caxton"\n'
                          'durability = "normal"\nlog_format = "json"\n')
    config = load_config(path, env=NO_ENV)
    assert (config.host, config.port, config.workers) == ("0.0.0.0", 9000, 8)
    assert config.shutdown_timeout_s == 2.5
    assert config.data_dir == Path("/srv/caxton")
    assert (config.durability, config.log_format) == ("normal", "json")


def test_env_values_are_read_and_coerced() -> None:
    config = load_config(env={"CAXTON_PORT": "9001", "CAXTON_WORKERS": "2",
                              "CAXTON_SHUTDOWN_TIMEOUT_S": "0.5", "CAXTON_DATA_DIR": "/x/y",
                              "CAXTON_LOG_LEVEL": "DEBUG", "CAXTON_DEFAULT_FUEL": "12345"})
    assert config.port == 9001
    assert config.workers == 2
    assert config.shutdown_timeout_s == 0.5
    assert config.data_dir == Path("/x/y")
    assert config.log_level == "DEBUG"
    assert config.default_fuel == 12345


def test_data_dir_expands_the_home_directory() -> None:
    config = load_config(env={"CAXTON_DATA_DIR": "~/caxton-data"})
    assert config.data_dir == Path("~/caxton-data").expanduser()
    assert "~" not in str(config.data_dir)


def test_empty_env_values_are_ignored(tmp_path: Path) -> None:
    path = toml(tmp_path, "port = 7000\n")
    assert load_config(path, env={"CAXTON_PORT": "", "CAXTON_HOST": ""}).port == 7000


def test_unrelated_env_variables_are_ignored() -> None:
    config = load_config(env={"PORT": "1", "CAXTON_UNKNOWN": "x", "caxton_port": "2"})
    assert config.port == 8080


def test_overrides_beat_env_which_beats_file(tmp_path: Path) -> None:
    path = toml(tmp_path, "port = 1000\nworkers = 3\nhost = \"file\"\n")
    env = {"CAXTON_PORT": "2000", "CAXTON_WORKERS": "5"}
    assert load_config(path, env=NO_ENV).port == 1000
    assert load_config(path, env=env).port == 2000
    both = load_config(path, env=env, overrides={"port": 3000})
    assert both.port == 3000
    assert both.workers == 5  # env still beats the file where no override is given
    assert both.host == "file"  # and the file still beats the defaults


def test_none_overrides_are_ignored(tmp_path: Path) -> None:
    path = toml(tmp_path, "port = 1000\n")
    config = load_config(path, env={"CAXTON_WORKERS": "6"},
                         overrides={"port": None, "workers": None, "host": "h"})
    assert (config.port, config.workers, config.host) == (1000, 6, "h")


def test_overrides_are_coerced() -> None:
    config = load_config(env=NO_ENV, overrides={"port": "1234", "data_dir": "/d",
                                                "max_wait_s": 3})
    assert config.port == 1234
    assert config.data_dir == Path("/d")
    assert config.max_wait_s == 3.0
    assert isinstance(config.max_wait_s, float)


def test_caxton_config_env_names_the_file(tmp_path: Path) -> None:
    path = toml(tmp_path, "port = 4321\n")
    assert load_config(env={"CAXTON_CONFIG": str(path)}).port == 4321


def test_explicit_file_beats_caxton_config(tmp_path: Path) -> None:
    chosen = toml(tmp_path, "port = 1111\n", "chosen.toml")
    ignored = toml(tmp_path, "port = 2222\n", "ignored.toml")
    assert load_config(chosen, env={"CAXTON_CONFIG": str(ignored)}).port == 1111


def test_limits_table_maps_to_default_settings(tmp_path: Path) -> None:
    path = toml(tmp_path, "[limits]\nfuel = 2000000\nmemory_bytes = 131072\n"
                          "timeout_ms = 250\nmax_message_bytes = 4096\n")
    config = load_config(path, env=NO_ENV)
    assert config.default_fuel == 2_000_000
    assert config.default_memory_bytes == 131072
    assert config.default_timeout_ms == 250
    assert config.default_max_message_bytes == 4096
    assert config.default_limits() == ResourceLimits(
        fuel=2_000_000, memory_bytes=131072, timeout_ms=250, max_message_bytes=4096)


def test_env_beats_the_limits_table(tmp_path: Path) -> None:
    path = toml(tmp_path, "[limits]\nfuel = 2000000\ntimeout_ms = 250\n")
    config = load_config(path, env={"CAXTON_DEFAULT_FUEL": "3000000"})
    assert config.default_fuel == 3_000_000
    assert config.default_timeout_ms == 250


def test_to_dict_is_plain_data(tmp_path: Path) -> None:
    config = load_config(env={"CAXTON_DATA_DIR": str(tmp_path)})
    out = config.to_dict()
    assert out["data_dir"] == str(tmp_path)
    assert out["port"] == 8080
    assert set(out) == set(ServerConfig.__dataclass_fields__)


# -- errors -----------------------------------------------------------------------------------


def test_unknown_file_setting_is_named(tmp_path: Path) -> None:
    path = toml(tmp_path, "port = 1\nbogus = 2\n")
    message = config_error(file=path)
    assert "unknown setting 'bogus'" in message
    assert str(path) in message


def test_unknown_table_is_refused(tmp_path: Path) -> None:
    assert "unknown setting 'server'" in config_error(file=toml(tmp_path, "[server]\nport = 1\n"))


def test_unknown_limit_is_refused(tmp_path: Path) -> None:
    message = config_error(file=toml(tmp_path, "[limits]\ngas = 5\n"))
    assert "unknown setting" in message
    assert "gas" in message


def test_limits_must_be_a_table(tmp_path: Path) -> None:
    assert "[limits] must be a table" in config_error(file=toml(tmp_path, "limits = 5\n"))


@pytest.mark.parametrize("text", ["port = \n", "port = 80\nport = 81\n", "[limits\n", "= 1\n",
                                  "host = 'unterminated\n"])
def test_bad_toml_is_refused(tmp_path: Path, text: str) -> None:
    path = toml(tmp_path, text)
    message = config_error(file=path)
    assert f"config file {path} is not valid TOML" in message


def test_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    message = config_error(file=path)
    assert f"cannot read config file {path}" in message
    assert "No such file" in message


def test_missing_file_named_by_env_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    assert "cannot read config file" in config_error(env={"CAXTON_CONFIG": str(path)})


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('port = "eighty"', "setting 'port': 'eighty' is not a valid int"),
        ("port = true", "setting 'port': True is not a valid int"),
        ("workers = [1, 2]", "setting 'workers'"),
        ('shutdown_timeout_s = "soon"', "setting 'shutdown_timeout_s': 'soon' is not a valid"),
        ("max_wait_s = {a = 1}", "setting 'max_wait_s'"),
        ('[limits]\nfuel = "lots"', "setting 'default_fuel': 'lots' is not a valid int"),
    ],
)
def test_badly_typed_file_values_are_refused(tmp_path: Path, text: str, needle: str) -> None:
    assert needle in config_error(file=toml(tmp_path, text + "\n"))


@pytest.mark.parametrize(
    ("key", "raw"),
    [("CAXTON_PORT", "http"), ("CAXTON_PORT", "1.5"), ("CAXTON_WORKERS", "four"),
     ("CAXTON_MAX_WAIT_S", "forever"), ("CAXTON_DEFAULT_TIMEOUT_MS", "1s")],
)
def test_badly_typed_env_values_are_refused(key: str, raw: str) -> None:
    setting = key.removeprefix("CAXTON_").lower()
    assert f"setting '{setting}': {raw!r} is not a valid" in config_error(env={key: raw})


def test_badly_typed_override_is_refused() -> None:
    assert "setting 'port': 'x' is not a valid int" in config_error(overrides={"port": "x"})


@pytest.mark.parametrize("port", [0, 1, 65535])
def test_port_bounds_are_inclusive(port: int) -> None:
    assert load_config(env=NO_ENV, overrides={"port": port}).port == port


@pytest.mark.parametrize("port", [-1, 65536, 70000])
def test_out_of_range_ports_are_refused(port: int, tmp_path: Path) -> None:
    expected = f"port must be from 0 to 65535, not {port}"
    assert config_error(file=toml(tmp_path, f"port = {port}\n")) == expected
    assert config_error(env={"CAXTON_PORT": str(port)}) == expected
    assert config_error(overrides={"port": port}) == expected


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"workers": 0}, "workers must be from 1 to 256, not 0"),
        ({"workers": 257}, "workers must be from 1 to 256, not 257"),
        ({"durability": "fast"}, "durability must be 'full' or 'normal', not 'fast'"),
        ({"log_format": "xml"}, "log_format must be auto, json or console, not 'xml'"),
        ({"log_level": "trace"}, "log_level must be debug, info, warning or error"),
        ({"default_fuel": 10}, "default limits: field 'fuel': must be an integer from 1000"),
        ({"default_memory_bytes": 1}, "default limits: field 'memory_bytes'"),
        ({"default_timeout_ms": 0}, "default limits: field 'timeout_ms'"),
        ({"default_max_message_bytes": 10**9}, "default limits: field 'max_message_bytes'"),
        ({"conversation_idle_timeout_s": 0}, "conversation_idle_timeout_s and "
         "conversation_retention_s must be positive"),
        ({"conversation_retention_s": -1}, "must be positive"),
        ({"platform_name": "has space"}, "platform_name must be 1 to 128 letters"),
        ({"acc_url": "ftp://x/acc"}, "acc_url must be an http:// or https:// URL"),
        ({"max_agent_fuel": 10**13}, "max_agent_fuel: ceiling must be an integer from 1000 to"),
        ({"max_agent_memory_bytes": 1}, "max_agent_memory_bytes: ceiling must be an integer"),
        ({"max_agent_memory_bytes": 8 * 1024 * 1024}, "the default memory_bytes (16777216) is "
         "above max_agent_memory_bytes (8388608): agents deployed without it would be refused"),
        ({"default_timeout_ms": 5000, "max_agent_timeout_ms": 4000},
         "the default timeout_ms (5000) is above max_agent_timeout_ms (4000)"),
        ({"max_total_memory_bytes": 1024}, "max_total_memory_bytes must be from the default "
         "memory_bytes (16777216) to 1125899906842624, not 1024"),
        ({"max_concurrent_deploys": 0}, "max_concurrent_deploys must be from 1 to 64, not 0"),
        ({"max_queued_deploys": -1}, "max_queued_deploys must be from 0 to 10000, not -1"),
        ({"http_header_timeout_s": 0}, "http_header_timeout_s must be more than 0 and at most"),
        ({"http_body_timeout_s": 4000}, "http_body_timeout_s must be more than 0 and at most 3600"),
        ({"http_keep_alive_s": -1}, "http_keep_alive_s must be more than 0"),
        ({"max_connections": 0}, "max_connections must be from 1 to 1000000, not 0"),
    ],
)
def test_invalid_values_are_refused_with_clear_messages(overrides: dict[str, Any], needle: str
                                                        ) -> None:
    assert needle in config_error(overrides=overrides)


def test_invalid_limit_in_file_is_refused(tmp_path: Path) -> None:
    message = config_error(file=toml(tmp_path, "[limits]\ntimeout_ms = 0\n"))
    assert message.startswith("default limits: field 'timeout_ms'")


def test_server_config_validates_when_built_directly() -> None:
    with pytest.raises(ConfigError, match="port must be"):
        ServerConfig(port=100_000)


# -- typed file values (regressions) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "setting"), [("port = 1.5", "port"), ("workers = 2.9", "workers")]
)
def test_fractional_integers_in_the_file_are_refused(tmp_path: Path, text: str, setting: str
                                                     ) -> None:
    # Regression: int(1.5) silently gave 1, so `port = 1.5` started a server on port 1.
    assert f"setting '{setting}'" in config_error(file=toml(tmp_path, text + "\n"))


@pytest.mark.parametrize(
    ("text", "setting"),
    [("host = 5", "host"), ("host = [1, 2]", "host"), ("data_dir = 5", "data_dir"),
     ("log_format = {a = 1}", "log_format"), ("shutdown_timeout_s = true", "shutdown_timeout_s"),
     ('port = "8080"', "port"), ('[limits]\nfuel = 2e6', "default_fuel")],
)
def test_file_values_of_the_wrong_toml_type_are_refused(tmp_path: Path, text: str,
                                                        setting: str) -> None:
    # Regression: str()/float() used to turn `host = [1, 2]` into the host '[1, 2]'.
    assert f"setting '{setting}'" in config_error(file=toml(tmp_path, text + "\n"))


def test_integers_are_fine_for_float_settings(tmp_path: Path) -> None:
    config = load_config(toml(tmp_path, "max_wait_s = 3\n"), env=NO_ENV)
    assert config.max_wait_s == 3.0
    assert isinstance(config.max_wait_s, float)


def test_unknown_override_is_refused() -> None:
    # Regression: this used to be a KeyError.
    assert "unknown setting 'bogus'" in config_error(overrides={"bogus": 1})


def test_unknown_override_is_refused_even_when_none() -> None:
    assert "unknown setting 'bogus'" in config_error(overrides={"bogus": None})


@pytest.mark.parametrize(("setting", "value"), [("port", True), ("port", 1.5), ("workers", 2.9)])
def test_regression_override_of_the_wrong_type_is_truncated(setting: str, value: Any) -> None:
    """Regression (src/caxton/config.py, load_config): overrides are coerced with
    ``from_text=True``, i.e. ``int(value)``, so ``overrides={"port": True}`` gives port 1 and
    ``{"port": 1.5}`` port 1 (a bool was refused before the typed-values change). The CLI
    passes typed values from typer, so an override's type can be checked like a file value."""
    assert f"setting '{setting}'" in config_error(overrides={setting: value})


@pytest.mark.parametrize("value", [-2, 65536])
def test_metrics_port_out_of_range_is_refused(value: int) -> None:
    with pytest.raises(ConfigError, match="metrics_port must be from -1 \\(off\\) to 65535"):
        load_config(env={}, overrides={"metrics_port": value})


def test_metrics_port_is_off_by_default_and_settable() -> None:
    assert load_config(env={}).metrics_port == -1
    assert load_config(env={"CAXTON_METRICS_PORT": "9464"}).metrics_port == 9464


def test_mtp_allowed_hosts_are_split_and_trimmed() -> None:
    config = load_config(None, env={}, overrides={"mtp_allowed_hosts": " *.example.org, ,a:1"})
    assert config.mtp_allowed == ("*.example.org", "a:1")
    assert load_config(None, env={}).mtp_allowed == ()


def test_loop_and_fanout_limits_have_documented_defaults_and_are_settable(tmp_path: Path
                                                                          ) -> None:
    config = load_config(env={})
    assert (config.max_hops, config.max_cascade_in_flight) == (1000, 1000)
    assert config.default_limits().max_sends_per_message == 100
    config = load_config(toml(tmp_path, "max_hops = 50\nmax_cascade_in_flight = 20\n"
                              "[limits]\nmax_sends_per_message = 7\n"), env={})
    assert (config.max_hops, config.max_cascade_in_flight) == (50, 20)
    assert config.default_limits().max_sends_per_message == 7
    env = {"CAXTON_MAX_HOPS": "9", "CAXTON_DEFAULT_MAX_SENDS_PER_MESSAGE": "3"}
    config = load_config(env=env)
    assert (config.max_hops, config.default_limits().max_sends_per_message) == (9, 3)


@pytest.mark.parametrize(("setting", "value", "needle"), [
    ("max_hops", 0, "max_hops must be from 1 to 999999999 (answers in a row), not 0"),
    ("max_hops", -5, "max_hops must be from 1 to 999999999 (answers in a row), not -5"),
    ("max_hops", 10**9, "max_hops must be from 1 to 999999999"),
    ("max_cascade_in_flight", 0, "max_cascade_in_flight must be from 2 to 1000000000 "
     "(messages in flight per cascade), not 0"),
    ("max_cascade_in_flight", 1, "max_cascade_in_flight must be from 2"),
    ("max_cascade_in_flight", -1, "max_cascade_in_flight must be from 2"),
    ("default_max_sends_per_message", 0,
     "default limits: field 'max_sends_per_message': must be an integer from 1 to 1000000"),
    ("default_max_sends_per_message", -3, "field 'max_sends_per_message'"),
])
def test_loop_and_fanout_limits_refuse_zero_and_negatives(setting: str, value: int,
                                                          needle: str) -> None:
    assert needle in config_error(overrides={setting: value})
    assert needle in config_error(env={f"CAXTON_{setting.upper()}": str(value)})


def test_a_zero_send_budget_in_the_limits_table_is_refused(tmp_path: Path) -> None:
    message = config_error(file=toml(tmp_path, "[limits]\nmax_sends_per_message = 0\n"))
    assert message.startswith("default limits: field 'max_sends_per_message'")


def test_max_content_depth_defaults_to_64_and_is_bounded() -> None:
    assert load_config(env={}).max_content_depth == 64
    assert load_config(env={"CAXTON_MAX_CONTENT_DEPTH": "200"}).max_content_depth == 200
    for bad in ("0", "201", "-3"):
        with pytest.raises(ConfigError, match="max_content_depth must be from 1 to 200"):
            load_config(env={"CAXTON_MAX_CONTENT_DEPTH": bad})


def test_ceilings_and_budget_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = toml(tmp_path, "max_agent_memory_bytes = 33554432\n"
                          "max_total_memory_bytes = 1073741824\n")
    config = load_config(file=path, env={"CAXTON_MAX_AGENT_FUEL": "2000000000"})
    assert config.max_total_memory_bytes == 1024**3
    ceilings = config.limit_ceilings()
    assert (ceilings.memory_bytes, ceilings.fuel) == (32 * 1024 * 1024, 2_000_000_000)
    assert ceilings.timeout_ms == 60_000  # the default


# -- JWT and OIDC bearer tokens --------------------------------------------------------------


def test_jwt_is_off_without_a_key_source() -> None:
    assert load_config(env=NO_ENV).jwt_settings() is None


def test_jwt_settings_come_from_the_file_with_the_secret_read_from_its_own_file(
        tmp_path: Path) -> None:
    secret = tmp_path / "jwt.secret"
    secret.write_bytes(b"0123456789abcdef0123456789abcdef\n")  # as `echo` leaves it
    path = toml(tmp_path, f'jwt_hs256_secret_file = "{secret}"\n'
                          'jwt_public_key_files = ["/keys/a.pem", "/keys/b.pem"]\n'
                          'jwt_jwks_file = "/keys/jwks.json"\n'
                          'oidc_jwks_url = "https://idp.example/jwks"\n'
                          'jwt_issuer = "https://idp.example"\njwt_audience = "caxton"\n'
                          'jwt_algorithms = ["HS256", "RS256"]\njwt_leeway_s = 5\n'
                          'jwt_role_claim = "roles"\njwt_agents_claim = "agents"\n'
                          'oidc_jwks_cache_s = 600\noidc_jwks_timeout_s = 2.5\n'
                          'oidc_jwks_refetch_interval_s = 60\n')
    settings = load_config(path, env=NO_ENV).jwt_settings()
    assert settings is not None
    assert settings.hs256_secret == b"0123456789abcdef0123456789abcdef"
    assert settings.public_key_files == (Path("/keys/a.pem"), Path("/keys/b.pem"))
    assert settings.jwks_file == Path("/keys/jwks.json")
    assert settings.jwks_url == "https://idp.example/jwks"
    assert (settings.issuer, settings.audience) == ("https://idp.example", "caxton")
    assert settings.algorithms == ("HS256", "RS256")
    assert (settings.leeway_s, settings.role_claim, settings.agents_claim) == (5, "roles", "agents")
    assert (settings.jwks_cache_s, settings.jwks_timeout_s, settings.jwks_refetch_interval_s) \
        == (600, 2.5, 60)


def test_jwt_settings_come_from_the_environment(tmp_path: Path) -> None:
    env = {"CAXTON_JWT_PUBLIC_KEY_FILES": "/k/a.pem, /k/b.pem",
           "CAXTON_JWT_ALGORITHMS": "RS256,EdDSA", "CAXTON_JWT_AUDIENCE": "caxton"}
    settings = load_config(env=env).jwt_settings()
    assert settings is not None
    assert settings.public_key_files == (Path("/k/a.pem"), Path("/k/b.pem"))
    assert (settings.algorithms, settings.audience, settings.issuer) == (
        ("RS256", "EdDSA"), "caxton", None)
    assert (settings.role_claim, settings.agents_claim) == ("caxton_role", "caxton_agents")


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"oidc_jwks_url": "file:///etc/jwks", "jwt_issuer": "i", "jwt_audience": "a"},
         "jwt/oidc settings: the JWKS URL must be an http:// or https:// URL"),
        ({"oidc_jwks_url": "https://idp.example/jwks"},
         "oidc_jwks_url needs jwt_issuer and jwt_audience"),
        ({"jwt_jwks_file": "/k/jwks.json", "jwt_algorithms": "none"}, "'none'"),
        ({"jwt_jwks_file": "/k/jwks.json", "jwt_algorithms": "HS256"},
         "no HS256 secret is configured"),
        ({"jwt_hs256_secret_file": "/k/s", "jwt_algorithms": "RS256"},
         "no HS algorithm is allowed"),
        ({"jwt_jwks_file": "/k/jwks.json", "jwt_leeway_s": -1}, "leeway"),
        ({"jwt_jwks_file": "/k/jwks.json", "oidc_jwks_timeout_s": 0}, "JWKS timeout"),
        ({"jwt_jwks_file": "/k/jwks.json", "jwt_role_claim": ""}, "claim names"),
        ({"jwt_audience": "caxton"}, "jwt_audience set but no JWT key source"),
    ],
)
def test_invalid_jwt_settings_are_refused(overrides: dict[str, Any], needle: str) -> None:
    assert needle in config_error(overrides=overrides)


def test_jwt_secret_file_problems_are_named(tmp_path: Path) -> None:
    missing = load_config(env=NO_ENV, overrides={"jwt_hs256_secret_file": str(tmp_path / "x")})
    with pytest.raises(ConfigError, match="jwt_hs256_secret_file: cannot read"):
        missing.jwt_settings()
    short = tmp_path / "short"
    short.write_text("hunter2\n")
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        load_config(env=NO_ENV, overrides={"jwt_hs256_secret_file": str(short)}).jwt_settings()
    huge = tmp_path / "huge"
    huge.write_bytes(b"x" * 10_000)
    with pytest.raises(ConfigError, match="larger than 4096 bytes"):
        load_config(env=NO_ENV, overrides={"jwt_hs256_secret_file": str(huge)}).jwt_settings()


def test_a_jwt_list_setting_must_be_strings_without_commas(tmp_path: Path) -> None:
    assert "give a list of strings" in config_error(
        file=toml(tmp_path, 'jwt_public_key_files = ["a,b"]\n'))
    assert "give a list of strings" in config_error(
        file=toml(tmp_path, "jwt_algorithms = [1]\n"))


def test_tls_settings_come_from_the_file_the_environment_and_flags(tmp_path: Path) -> None:
    config = load_config(env=NO_ENV)
    assert not config.tls_enabled
    assert (config.rest_client_certs, config.grpc_client_certs) == ("off", "off")
    path = toml(tmp_path, 'tls_cert_file = "a.crt"\ntls_key_file = "a.key"\n'
                          'tls_client_ca_file = "ca.crt"\nrest_client_certs = "optional"\n'
                          'mtp_tls_ca_file = "peers.crt"\n')
    config = load_config(path, env={"CAXTON_GRPC_CLIENT_CERTS": "required"},
                         overrides={"tls_cert_file": "b.crt"})
    assert config.tls_enabled
    assert (config.tls_cert_file, config.tls_key_file, config.tls_client_ca_file) == (
        "b.crt", "a.key", "ca.crt")
    assert (config.rest_client_certs, config.grpc_client_certs) == ("optional", "required")
    assert config.mtp_tls_ca_file == "peers.crt"


@pytest.mark.parametrize(("env", "message"), [
    ({"CAXTON_TLS_CERT_FILE": "a.crt"}, "tls_cert_file and tls_key_file go together"),
    ({"CAXTON_TLS_KEY_FILE": "a.key"}, "tls_cert_file and tls_key_file go together"),
    ({"CAXTON_MTP_TLS_CERT_FILE": "c.crt"}, "mtp_tls_cert_file and mtp_tls_key_file go"),
    ({"CAXTON_REST_CLIENT_CERTS": "maybe"}, "rest_client_certs must be off, optional or"),
    ({"CAXTON_GRPC_CLIENT_CERTS": "optional"}, "cannot ask for a client certificate without"),
    ({"CAXTON_REST_CLIENT_CERTS": "required", "CAXTON_TLS_CLIENT_CA_FILE": "ca.crt"},
     "rest_client_certs needs TLS"),
    ({"CAXTON_TLS_CERT_FILE": "a.crt", "CAXTON_TLS_KEY_FILE": "a.key",
      "CAXTON_GRPC_CLIENT_CERTS": "required"}, "grpc_client_certs needs tls_client_ca_file"),
    ({"CAXTON_TLS_CERT_FILE": "a.crt", "CAXTON_TLS_KEY_FILE": "a.key",
      "CAXTON_TLS_CLIENT_CA_FILE": "ca.crt"}, "no listener asks for client certificates"),
])
def test_inconsistent_tls_settings_are_refused(env: dict[str, str], message: str) -> None:
    assert message in config_error(env=env)


def test_event_loop_is_uvloop_by_default_and_checked() -> None:
    assert load_config(env={}).event_loop == "uvloop"
    assert load_config(env={"CAXTON_EVENT_LOOP": "asyncio"}).event_loop == "asyncio"
    with pytest.raises(ConfigError, match="event_loop must be 'uvloop' or 'asyncio'"):
        load_config(env={"CAXTON_EVENT_LOOP": "tokio"})


def test_http_parser_is_httptools_by_default_and_checked() -> None:
    assert load_config(env={}).http_parser == "httptools"
    assert load_config(env={"CAXTON_HTTP_PARSER": "h11"}).http_parser == "h11"
    with pytest.raises(ConfigError, match="http_parser must be 'httptools' or 'h11'"):
        load_config(env={"CAXTON_HTTP_PARSER": "picohttp"})

"""caxton security init-ca|issue-cert: a local certificate authority for TLS and mTLS.

The files go to one directory (default ``<data-dir>/tls``, mode 0700): ``ca.crt`` and
``ca.key``; ``node-NAME.crt``/``.key`` for servers; ``client-NAME.crt``/``.key`` for clients.
Keys are written with mode 0600. Each file is replaced whole (written beside, then renamed), so
a server reloading on SIGHUP never reads half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from caxton.cli._errors import EXIT_ERROR, EXIT_USAGE, CliError
from caxton.errors import ConfigError
from caxton.security import certificates as certs
from caxton.security.permissions import Role

app = typer.Typer(help="TLS certificates: a local CA, node and client certificates.",
                  no_args_is_help=True)

DirOpt = Annotated[Path | None, typer.Option(
    "--dir", help="Where the CA and certificates live (default: <data-dir>/tls)")]
DataDirOpt = Annotated[Path | None, typer.Option(
    help="The server's data directory (default: the configured one)")]
ConfigOpt = Annotated[Path | None, typer.Option(help="TOML config file (for its data_dir)")]


def tls_dir(directory: Path | None, data_dir: Path | None, config: Path | None) -> Path:
    if directory is not None:
        return directory
    from caxton.config import load_config  # noqa: PLC0415 - only for the default

    return load_config(config, overrides={"data_dir": data_dir}).data_dir / "tls"


def write_file(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` at once (a reader sees the old or the new file)."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _write_pair(issued: certs.Issued, directory: Path, stem: str) -> tuple[Path, Path]:
    cert, key = directory / f"{stem}.crt", directory / f"{stem}.key"
    write_file(key, issued.key_pem(), 0o600)
    write_file(cert, issued.certificate_pem(), 0o644)
    return cert, key


def _make_dir(directory: Path) -> None:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create {directory}: {exc.strerror}", EXIT_ERROR) from None


@app.command("init-ca")
def init_ca(
    directory: DirOpt = None,
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
    name: Annotated[str, typer.Option(help="The CA's common name")] = "Caxton local CA",
    days: Annotated[int, typer.Option(min=1, max=certs.MAX_DAYS,
                                      help="Validity in days")] = certs.CA_DAYS,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace an existing CA (what it issued will no longer verify)")
    ] = False,
) -> None:
    """Create a local CA (EC P-256): ca.crt, to trust, and ca.key, to sign with."""
    where = tls_dir(directory, data_dir, config)
    cert, key = where / "ca.crt", where / "ca.key"
    existing = [p.name for p in (cert, key) if p.exists()]
    if existing and not force:
        raise CliError(f"a CA exists already in {where} ({', '.join(existing)}); replacing it "
                       "stops every certificate it issued from verifying: use --force to "
                       "replace it", EXIT_ERROR)
    _make_dir(where)
    ca = certs.new_ca(name, days=days)
    _write_pair(ca, where, "ca")
    typer.echo(f"wrote {cert} and {key} (CA {name!r}, valid until "
               f"{ca.certificate.not_valid_after_utc:%Y-%m-%d})")


@app.command("issue-cert")
def issue_cert(
    node: Annotated[str | None, typer.Option(
        help="Issue a server certificate for node NAME (node-NAME.crt/.key)")] = None,
    client: Annotated[str | None, typer.Option(
        help="Issue a client certificate for NAME (client-NAME.crt/.key), its common name")
    ] = None,
    role: Annotated[Role | None, typer.Option(
        help="The client's role, written as the certificate's organizational unit")] = None,
    san: Annotated[list[str] | None, typer.Option(
        help="Another name the node is reached at: DNS:NAME, IP:ADDRESS, or either bare "
             "(repeat it; localhost, 127.0.0.1 and ::1 are always in)")] = None,
    days: Annotated[int, typer.Option(min=1, max=certs.MAX_DAYS,
                                      help="Validity in days")] = certs.CERT_DAYS,
    directory: DirOpt = None,
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Issue a certificate signed by the local CA (replacing one of the same name)."""
    if (node is None) == (client is None):
        raise CliError("give one of --node NAME or --client NAME", EXIT_USAGE)
    if node is not None and role is not None:
        raise CliError("--role is for client certificates (--client NAME)", EXIT_USAGE)
    if client is not None and san:
        raise CliError("--san is for node certificates (--node NAME)", EXIT_USAGE)
    where = tls_dir(directory, data_dir, config)
    try:
        ca = certs.load_issued((where / "ca.crt").read_bytes(), (where / "ca.key").read_bytes())
    except FileNotFoundError:
        raise CliError(f"no CA in {where}: run 'caxton security init-ca' first",
                       EXIT_ERROR) from None
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the CA in {where}: {exc}", EXIT_ERROR) from None
    try:
        if node is not None:
            issued, stem = certs.node_certificate(ca, node, san or (), days=days), f"node-{node}"
        else:
            assert client is not None
            issued = certs.client_certificate(ca, client, role.value if role else None, days=days)
            stem = f"client-{client}"
    except ConfigError as exc:
        raise CliError(exc.message, EXIT_USAGE) from None
    cert, key = _write_pair(issued, where, stem)
    typer.echo(f"wrote {cert} and {key} (serial {issued.serial:x}, valid until "
               f"{issued.certificate.not_valid_after_utc:%Y-%m-%d}{_names(issued)})")


def _names(issued: certs.Issued) -> str:
    from cryptography import x509  # noqa: PLC0415

    try:
        sans = issued.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        units = certs.organizational_units(issued.certificate)
        return f", role {units[0]}" if units else ""
    return ", for " + ", ".join(str(n.value) for n in sans.value)

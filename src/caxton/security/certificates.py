"""Certificates for TLS: a local certificate authority, node (server) certificates and client
certificates, built with ``cryptography`` (no OpenSSL command line).

Keys are ECDSA on P-256 with SHA-256 signatures: what OpenSSL (Python's ``ssl``, curl), gRPC's
BoringSSL and browsers all accept. A node certificate names where the server is reached in its
subject alternative names (localhost and the loopback addresses by default) and may also serve
as the node's client certificate towards other platforms (outbound MTP). A client certificate
carries the client's name as its common name and its role as its organizational unit, which
the API maps to a role.

Pure: bytes in, bytes out; the CLI (``caxton security``) writes the files.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from caxton.errors import ConfigError

DEFAULT_SANS = ("localhost", "127.0.0.1", "::1")
CA_DAYS = 3650
CERT_DAYS = 365
MAX_DAYS = 36500
# Valid from a few minutes ago: a peer whose clock is a little behind still accepts it.
_BACKDATE = dt.timedelta(minutes=5)
# A node name is also a DNS name in its certificate; a client name is only a common name.
_NODE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,62}[A-Za-z0-9])?")
_CLIENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_DNS_NAME = re.compile(r"(?=.{1,253}$)(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+")


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    @property
    def serial(self) -> int:
        return self.certificate.serial_number


def check_node_name(name: str) -> str:
    if not _NODE_NAME.fullmatch(name) or ".." in name:
        raise ConfigError(f"node name {name!r}: use 1 to 64 letters, digits, '.' and '-' (a "
                          "host name), starting and ending with a letter or digit")
    return name


def check_client_name(name: str) -> str:
    if not _CLIENT_NAME.fullmatch(name):
        raise ConfigError(f"client name {name!r}: use 1 to 64 letters, digits and '._@-', "
                          "starting with a letter or digit")
    return name


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise ConfigError(f"days must be from 1 to {MAX_DAYS}, not {days}")
    return days


def subject_alternative_name(text: str) -> x509.GeneralName:
    """``DNS:NAME``, ``IP:ADDRESS``, or a bare address or DNS name."""
    kind, value = "", text
    for prefix in ("DNS:", "IP:"):
        if text.upper().startswith(prefix):
            kind, value = prefix[:-1], text[len(prefix):]
    if kind in ("", "IP"):
        try:
            return x509.IPAddress(ipaddress.ip_address(value.strip("[]")))
        except ValueError:
            if kind == "IP":
                raise ConfigError(f"--san {text!r}: not an IP address") from None
    if not _DNS_NAME.fullmatch(value):
        raise ConfigError(f"--san {text!r}: not a DNS name or an IP address")
    return x509.DNSName(value.lower())


def _name(common_name: str, unit: str | None = None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Caxton")]
    if unit:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(parts)


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)) - _BACKDATE


def new_ca(common_name: str = "Caxton local CA", *, days: int = CA_DAYS,
           now: dt.datetime | None = None) -> Issued:
    """A self-signed CA that may sign end-entity certificates only (path length 0)."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = _now(now)
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=check_days(days)))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def _issue(ca: Issued, subject: x509.Name, usages: list[x509.ObjectIdentifier],
           sans: Sequence[x509.GeneralName], days: int, now: dt.datetime | None) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    start = _now(now)
    end = min(start + dt.timedelta(days=check_days(days)), ca.certificate.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=False, crl_sign=False,
            content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca.key.public_key()), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def node_certificate(ca: Issued, name: str, sans: Sequence[str] = (), *, days: int = CERT_DAYS,
                     now: dt.datetime | None = None) -> Issued:
    """A server certificate for node ``name``, valid for ``name``, localhost, 127.0.0.1, ::1
    and ``sans``; usable as the node's client certificate too (outbound MTP)."""
    names: list[x509.GeneralName] = []
    for text in (check_node_name(name), *DEFAULT_SANS, *sans):
        general = subject_alternative_name(text)
        if general not in names:
            names.append(general)
    return _issue(ca, _name(name), [ExtendedKeyUsageOID.SERVER_AUTH,
                                    ExtendedKeyUsageOID.CLIENT_AUTH], names, days, now)


def client_certificate(ca: Issued, name: str, role: str | None = None, *,
                       days: int = CERT_DAYS, now: dt.datetime | None = None) -> Issued:
    """A client certificate: common name ``name``, organizational unit ``role`` (if any)."""
    return _issue(ca, _name(check_client_name(name), role),
                  [ExtendedKeyUsageOID.CLIENT_AUTH], (), days, now)


def load_issued(certificate_pem: bytes, key_pem: bytes) -> Issued:
    """A certificate and key read back (e.g. the CA, to sign with); ValueError if unreadable
    or if they do not belong together."""
    cert = x509.load_pem_x509_certificate(certificate_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the key is not an EC key")
    if key.public_key() != cert.public_key():
        raise ValueError("the key does not belong to the certificate")
    return Issued(cert, key)


def organizational_units(cert: x509.Certificate) -> tuple[str, ...]:
    """The subject's organizational units, in order."""
    return tuple(str(a.value) for a in
                 cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME))


__all__ = ["CA_DAYS", "CERT_DAYS", "DEFAULT_SANS", "MAX_DAYS", "Issued", "check_client_name",
           "check_days", "check_node_name", "client_certificate", "load_issued", "new_ca",
           "node_certificate", "organizational_units", "subject_alternative_name"]

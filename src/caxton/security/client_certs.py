"""Who a verified client certificate names: its common name and organizational units.

REST: the HTTP protocol puts the ``ClientCertificate`` of a TLS connection whose client
presented a certificate into every request's ASGI scope under ``SCOPE_KEY`` (absent when there
is none; the TLS layer has verified it against ``tls_client_ca_file`` by then). gRPC:
``client_certificate(context)`` in a handler or interceptor. The organizational unit is the
role (``caxton security issue-cert --client NAME --role ROLE`` writes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from caxton.security.principal import ClientCertificate

if TYPE_CHECKING:
    import grpc

SCOPE_KEY = "caxton.client_cert"


def from_peercert(peercert: Mapping[str, Any] | None) -> ClientCertificate | None:
    """The identity in ``ssl.SSLObject.getpeercert()``'s answer (None or empty: no verified
    certificate). A certificate without a common name names nobody: None."""
    if not peercert:
        return None
    common_name, units = "", []
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName" and not common_name:
                common_name = str(value)
            elif key == "organizationalUnitName":
                units.append(str(value))
    return ClientCertificate(common_name, tuple(units)) if common_name else None


def from_certificate(cert: x509.Certificate) -> ClientCertificate | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        return None
    units = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    return ClientCertificate(str(names[0].value), tuple(str(u.value) for u in units))


def client_certificate(context: grpc.ServicerContext | Any) -> ClientCertificate | None:
    """The verified client certificate of a gRPC call (grpc or grpc.aio context), if any.

    gRPC puts a peer certificate into the auth context only after verifying it, which it
    does only with ``grpc_client_certs = "required"``.
    """
    auth = context.auth_context()
    pem = next(iter(auth.get("x509_pem_cert", ())), None)
    if pem is None:
        return None
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return None
    return from_certificate(cert)


__all__ = ["SCOPE_KEY", "client_certificate", "from_certificate", "from_peercert"]

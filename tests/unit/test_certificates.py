"""The local CA's certificates (``caxton.security.certificates``), what a client certificate
names (``caxton.security.client_certs``) and the server's certificate files and their reload
(``caxton.security.tls``). Handshakes here run in memory through Python's ``ssl`` (OpenSSL)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from caxton.errors import ConfigError
from caxton.security import certificates as certs
from caxton.security.client_certs import from_certificate, from_peercert
from caxton.security.client_tls import ClientTls
from caxton.security.principal import ClientCertificate
from caxton.security.tls import ServerTls, TlsFiles, read_material


@pytest.fixture(scope="module")
def ca() -> certs.Issued:
    return certs.new_ca()


def write(directory: Path, stem: str, issued: certs.Issued) -> tuple[Path, Path]:
    cert, key = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert.write_bytes(issued.certificate_pem())
    key.write_bytes(issued.key_pem())
    return cert, key


def sans(cert: x509.Certificate) -> list[str]:
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(name.value) for name in ext]


def handshake(server: ssl.SSLContext, client: ssl.SSLContext, hostname: str
              ) -> tuple[ssl.SSLObject, ssl.SSLObject]:
    """A TLS handshake in memory; raises what either side raised."""
    s_in, s_out, c_in, c_out = (ssl.MemoryBIO() for _ in range(4))
    server_side = server.wrap_bio(s_in, s_out, server_side=True)
    client_side = client.wrap_bio(c_in, c_out, server_hostname=hostname)
    done = {"server": False, "client": False}
    for _ in range(20):
        for name, side in (("client", client_side), ("server", server_side)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            # TLS 1.3: the server judges the client's certificate after the client is done;
            # an exchange of data shows whether it accepted it.
            client_side.write(b"ping")
            s_in.write(c_out.read())
            assert server_side.read(4) == b"ping"
            return server_side, client_side
    raise AssertionError("the handshake did not finish")


# -- the CA and what it issues ---------------------------------------------------------------
def test_the_ca_is_a_p256_ca_that_signs_end_entities_only(ca: certs.Issued) -> None:
    cert = ca.certificate
    assert isinstance(ca.key, ec.EllipticCurvePrivateKey) and ca.key.curve.name == "secp256r1"
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    assert cert.subject == cert.issuer
    cert.verify_directly_issued_by(cert)
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert days == certs.CA_DAYS


def test_a_node_certificate_names_localhost_the_loopbacks_and_the_extra_names(
        ca: certs.Issued) -> None:
    node = certs.node_certificate(ca, "node1.example.org",
                                  ["DNS:api.example.org", "10.0.0.7", "IP:fd00::1", "localhost"])
    cert = node.certificate
    cert.verify_directly_issued_by(ca.certificate)
    assert sans(cert) == ["node1.example.org", "localhost", "127.0.0.1", "::1",
                          "api.example.org", "10.0.0.7", "fd00::1"]
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "node1.example.org"
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == certs.CERT_DAYS
    assert node.serial != certs.node_certificate(ca, "node1.example.org").serial


def test_a_client_certificate_carries_its_name_and_role(ca: certs.Issued) -> None:
    client = certs.client_certificate(ca, "alice", "developer", days=30)
    cert = client.certificate
    cert.verify_directly_issued_by(ca.certificate)
    assert from_certificate(cert) == ClientCertificate("alice", ("developer",))
    assert certs.organizational_units(cert) == ("developer",)
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 30
    assert from_certificate(certs.client_certificate(ca, "bob").certificate) == \
        ClientCertificate("bob", ())


def test_a_certificate_never_outlives_its_ca() -> None:
    short = certs.new_ca(days=10)
    node = certs.node_certificate(short, "n", days=365)
    assert node.certificate.not_valid_after_utc == short.certificate.not_valid_after_utc


@pytest.mark.parametrize("name", ["", "-x", "x-", "a b", "a/b", "../etc", "a..b", "x" * 65,
                                  "é"])
def test_bad_node_names_are_refused(ca: certs.Issued, name: str) -> None:
    with pytest.raises(ConfigError, match="node name"):
        certs.node_certificate(ca, name)


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "a b", "x" * 65])
def test_bad_client_names_are_refused(ca: certs.Issued, name: str) -> None:
    with pytest.raises(ConfigError, match="client name"):
        certs.client_certificate(ca, name)


@pytest.mark.parametrize(("text", "expected"), [
    ("10.1.2.3", x509.IPAddress(ipaddress.ip_address("10.1.2.3"))),
    ("IP:::1", x509.IPAddress(ipaddress.ip_address("::1"))),
    ("[fe80::1]", x509.IPAddress(ipaddress.ip_address("fe80::1"))),
    ("DNS:Example.ORG", x509.DNSName("example.org")),
    ("*.example.org", x509.DNSName("*.example.org")),
    ("host-1", x509.DNSName("host-1")),
])
def test_subject_alternative_names(text: str, expected: x509.GeneralName) -> None:
    assert certs.subject_alternative_name(text) == expected


@pytest.mark.parametrize("text", ["IP:example.org", "DNS:a b", "under_score.org", "a..b", ""])
def test_bad_subject_alternative_names_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="--san"):
        certs.subject_alternative_name(text)


@pytest.mark.parametrize("days", [0, -1, certs.MAX_DAYS + 1])
def test_days_out_of_range_are_refused(ca: certs.Issued, days: int) -> None:
    with pytest.raises(ConfigError, match="days"):
        certs.client_certificate(ca, "x", days=days)


def test_a_ca_read_back_signs_and_a_foreign_key_is_refused(ca: certs.Issued) -> None:
    again = certs.load_issued(ca.certificate_pem(), ca.key_pem())
    certs.node_certificate(again, "n").certificate.verify_directly_issued_by(ca.certificate)
    with pytest.raises(ValueError, match="does not belong"):
        certs.load_issued(ca.certificate_pem(), certs.new_ca().key_pem())


# -- OpenSSL accepts them ----------------------------------------------------------------------
@pytest.mark.parametrize("hostname", ["localhost", "127.0.0.1", "::1", "node1"])
def test_openssl_verifies_the_node_for_each_of_its_names(ca: certs.Issued, tmp_path: Path,
                                                         hostname: str) -> None:
    (tmp_path / "ca.crt").write_bytes(ca.certificate_pem())
    cert, key = write(tmp_path, "node", certs.node_certificate(ca, "node1"))
    server = ServerTls(TlsFiles(cert, key)).rest_context
    client = ClientTls(tmp_path / "ca.crt").ssl_context()
    _, client_side = handshake(server, client, hostname)
    assert client_side.version() in ("TLSv1.2", "TLSv1.3")


def test_openssl_refuses_a_name_the_node_certificate_lacks(ca: certs.Issued,
                                                           tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_bytes(ca.certificate_pem())
    cert, key = write(tmp_path, "node", certs.node_certificate(ca, "node1"))
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        handshake(ServerTls(TlsFiles(cert, key)).rest_context,
                  ClientTls(tmp_path / "ca.crt").ssl_context(), "other.example.org")


def test_a_client_certificate_is_verified_and_named(ca: certs.Issued, tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_bytes(ca.certificate_pem())
    cert, key = write(tmp_path, "node", certs.node_certificate(ca, "n"))
    alice_cert, alice_key = write(tmp_path, "alice", certs.client_certificate(ca, "alice", "admin"))
    tls = ServerTls(TlsFiles(cert, key, tmp_path / "ca.crt"), rest_client_certs="required")
    client = ClientTls(tmp_path / "ca.crt", alice_cert, alice_key).ssl_context()
    server_side, _ = handshake(tls.rest_context, client, "localhost")
    assert from_peercert(server_side.getpeercert()) == ClientCertificate("alice", ("admin",))
    stranger = certs.new_ca()
    (tmp_path / "other.crt").write_bytes(stranger.certificate_pem())
    m_cert, m_key = write(tmp_path, "mallory", certs.client_certificate(stranger, "mallory"))
    with pytest.raises(ssl.SSLError):
        handshake(tls.rest_context, ClientTls(tmp_path / "ca.crt", m_cert, m_key).ssl_context(),
                  "localhost")


def test_peercert_dictionaries_name_the_client() -> None:
    subject = ((("organizationName", "Caxton"),), (("organizationalUnitName", "operator"),),
               (("organizationalUnitName", "night"),), (("commonName", "ops"),))
    assert from_peercert({"subject": subject}) == ClientCertificate("ops", ("operator", "night"))
    assert from_peercert(None) is None
    assert from_peercert({}) is None  # CERT_OPTIONAL without a certificate
    assert from_peercert({"subject": ((("organizationalUnitName", "admin"),),)}) is None


# -- the server's files ------------------------------------------------------------------------
def test_unusable_files_are_refused_with_the_file_named(ca: certs.Issued, tmp_path: Path) -> None:
    cert, key = write(tmp_path, "node", certs.node_certificate(ca, "n"))
    _, other_key = write(tmp_path, "other", certs.node_certificate(ca, "n"))
    (tmp_path / "junk").write_text("not a certificate\n")
    cases = [
        (TlsFiles(tmp_path / "missing.crt", key), "cannot read the TLS certificate"),
        (TlsFiles(cert, tmp_path / "missing.key"), "cannot read the TLS key"),
        (TlsFiles(tmp_path / "junk", key), "is not a PEM certificate"),
        (TlsFiles(cert, tmp_path / "junk"), "is not an unencrypted PEM private key"),
        (TlsFiles(cert, other_key), "does not belong to the certificate"),
        (TlsFiles(cert, key, tmp_path / "junk"), "holds no PEM certificate"),
    ]
    for files, message in cases:
        with pytest.raises(ConfigError, match=message):
            read_material(files)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=certs.CERT_DAYS + 1)
    with pytest.raises(ConfigError, match="is valid only from"):
        read_material(TlsFiles(cert, key), now=later)


def test_a_reload_takes_new_files_and_a_bad_one_keeps_the_old(ca: certs.Issued,
                                                             tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_bytes(ca.certificate_pem())
    first = certs.node_certificate(ca, "n")
    cert, key = write(tmp_path, "node", first)
    tls = ServerTls(TlsFiles(cert, key))
    client = ClientTls(tmp_path / "ca.crt").ssl_context()

    def served() -> int:
        _, client_side = handshake(tls.rest_context, client, "localhost")
        der = client_side.getpeercert(binary_form=True)
        assert der is not None
        return x509.load_der_x509_certificate(der).serial_number

    assert served() == first.serial
    second = certs.node_certificate(ca, "n")
    write(tmp_path, "node", second)
    assert tls.reload() and served() == second.serial and tls.material.serial == second.serial
    cert.write_text("garbage")
    assert not tls.reload()
    assert served() == second.serial
    write(tmp_path, "node", first)
    key.write_bytes(certs.node_certificate(ca, "n").key_pem())  # a key of another certificate
    assert not tls.reload()
    assert served() == second.serial and tls.reloads == 1


def test_a_reload_takes_a_new_client_ca_too(ca: certs.Issued, tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_bytes(ca.certificate_pem())
    cert, key = write(tmp_path, "node", certs.node_certificate(ca, "n"))
    clients = tmp_path / "clients.crt"
    old_ca, new_ca = certs.new_ca("old clients"), certs.new_ca("new clients")
    clients.write_bytes(old_ca.certificate_pem())
    old_cert, old_key = write(tmp_path, "old", certs.client_certificate(old_ca, "old"))
    new_cert, new_key = write(tmp_path, "new", certs.client_certificate(new_ca, "new"))
    tls = ServerTls(TlsFiles(cert, key, clients), rest_client_certs="required")

    def who(cert_file: Path, key_file: Path) -> ClientCertificate | None:
        client = ClientTls(tmp_path / "ca.crt", cert_file, key_file).ssl_context()
        server_side, _ = handshake(tls.rest_context, client, "localhost")
        return from_peercert(server_side.getpeercert())

    assert who(old_cert, old_key) == ClientCertificate("old", ())
    with pytest.raises(ssl.SSLError):
        who(new_cert, new_key)
    clients.write_bytes(new_ca.certificate_pem())
    assert tls.reload()
    assert who(new_cert, new_key) == ClientCertificate("new", ())
    with pytest.raises(ssl.SSLError):
        who(old_cert, old_key)

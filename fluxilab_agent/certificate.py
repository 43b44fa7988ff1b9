"""The gateway's TLS certificate: the operator's, or a self-signed one kept on disk.

Users reach the gateway through the lab router's port forwarding, so it speaks
HTTPS itself. With ``gateway.cert``/``gateway.key`` it serves the operator's
certificate; without them it creates, on first start, a self-signed certificate
(ECDSA P-256, 825 days, the longest every browser accepts) in the data dir
(``gateway-key.pem`` 0600, ``gateway-cert.pem``) and keeps it across restarts, so
its fingerprint stays the same. A certificate within 30 days of its end is
replaced. Either way the SHA-256 fingerprint of the certificate (``AB:CD:...``, as
browsers show it) is logged and announced (``gateway_fingerprint``), and Home
Assistant shows it, so a user who gets the browser's warning for a self-signed
certificate can compare before going on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import datetime
import ipaddress
import logging
from pathlib import Path
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .state import write_private

_LOGGER = logging.getLogger(__name__)

CERT_FILE = "gateway-cert.pem"
KEY_FILE = "gateway-key.pem"
VALIDITY = datetime.timedelta(days=825)
RENEW_BEFORE = datetime.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class GatewayCertificate:
    """A certificate and key the gateway serves, and the fingerprint users check."""

    cert: Path
    key: Path
    fingerprint: str
    """SHA-256 of the DER certificate, upper-case hex pairs joined by colons."""
    self_signed: bool

    def server_context(self) -> ssl.SSLContext:
        """Return a TLS server context (TLS 1.2 or newer) with this certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert, self.key)
        return context


def fingerprint_of(certificate: x509.Certificate) -> str:
    """Return the SHA-256 fingerprint the way browsers show it (``AB:CD:...``)."""
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def load_certificate(cert: Path, key: Path) -> GatewayCertificate:
    """Check the operator's certificate and key; RuntimeError if they are unusable."""
    try:
        chain = x509.load_pem_x509_certificates(cert.read_bytes())
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ValueError, ssl.SSLError) as err:
        raise RuntimeError(
            f"gateway certificate {cert} / key {key} unusable: {err}"
        ) from err
    return GatewayCertificate(cert, key, fingerprint_of(chain[0]), self_signed=False)


def self_signed_certificate(
    folder: Path, *, device_id: str, hosts: Iterable[str] = ()
) -> GatewayCertificate:
    """Return the self-signed certificate in ``folder``, creating it if needed.

    ``hosts`` (names or addresses users reach the gateway at) go into the subject
    alternative names beside ``localhost`` and the loopback addresses.
    """
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    now = datetime.datetime.now(datetime.UTC)
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as err:
        _LOGGER.warning(
            "The gateway certificate in %s is unreadable (%s): making a new one",
            folder,
            err,
        )
    else:
        if certificate.not_valid_after_utc - RENEW_BEFORE > now:
            return GatewayCertificate(
                cert_path, key_path, fingerprint_of(certificate), self_signed=True
            )
        _LOGGER.info("The gateway certificate ends soon: making a new one")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id[:64])])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(_alternative_names(hosts), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
    fingerprint = fingerprint_of(certificate)
    _LOGGER.info("Created a self-signed gateway certificate %s", cert_path)
    return GatewayCertificate(cert_path, key_path, fingerprint, self_signed=True)


def _alternative_names(hosts: Iterable[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    addresses = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    for given in hosts:
        host = given.strip("[]")
        if not host or host in ("0.0.0.0", "::", "localhost"):  # noqa: S104
            continue
        try:
            addresses.add(ipaddress.ip_address(host))
        except ValueError:
            if host.isascii() and (dns := x509.DNSName(host)) not in names:
                names.append(dns)
    names.extend(x509.IPAddress(address) for address in sorted(addresses, key=str))
    return x509.SubjectAlternativeName(names)

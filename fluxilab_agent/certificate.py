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

Only making a certificate needs ``cryptography``'s X.509 code, about 4 MiB of a
Raspberry Pi agent's memory (docs/AGENT.md) that would stay loaded for as long as
the agent runs. So a certificate is made by a short-lived child process
(``python -m fluxilab_agent.certificate``, the request on its stdin, the PEM key
and certificate on its stdout: a pipe, never a file or a log), and a start with a
certificate on disk reads its fingerprint and end date from the PEM itself
(:func:`_not_valid_after` walks the few DER fields before the validity) and lets
OpenSSL (``ssl``) check that certificate and key load and belong together.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable
from dataclasses import dataclass
import datetime
import hashlib
import ipaddress
import json
import logging
import os
from pathlib import Path
import re
import ssl
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from .state import write_private

if TYPE_CHECKING:
    from cryptography import x509

_LOGGER = logging.getLogger(__name__)

CERT_FILE = "gateway-cert.pem"
KEY_FILE = "gateway-key.pem"
VALIDITY = datetime.timedelta(days=825)
RENEW_BEFORE = datetime.timedelta(days=30)
MAKE_TIMEOUT = 120.0
"""Seconds the child process may take to make a certificate (a Pi Zero is slow)."""

_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----"
)


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
        return _server_context(self.cert, self.key)


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """Return a TLS 1.2+ server context; SSLError unless ``key`` fits ``cert``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def fingerprint_of(der: bytes) -> str:
    """Return the SHA-256 fingerprint the way browsers show it (``AB:CD:...``)."""
    return hashlib.sha256(der).digest().hex(":").upper()


def pem_certificates(data: bytes) -> list[bytes]:
    """Return the DER certificates of a PEM file, in order; ValueError if none."""
    found = [
        binascii.a2b_base64(b"".join(block.split()))
        for block in _PEM_CERTIFICATE.findall(data)
    ]
    if not found:
        raise ValueError("no PEM certificate")
    return found


def _element(der: bytes, offset: int) -> tuple[int, int, int]:
    """Return (tag, start, end) of the DER element at ``offset``."""
    if offset + 2 > len(der):
        raise ValueError("truncated DER")
    tag, length = der[offset], der[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or offset + count > len(der):
            raise ValueError("bad DER length")
        length = int.from_bytes(der[offset : offset + count], "big")
        offset += count
    if offset + length > len(der):
        raise ValueError("truncated DER")
    return tag, offset, offset + length


def _not_valid_after(der: bytes) -> datetime.datetime:
    """Return a DER certificate's notAfter (RFC 5280 4.1); ValueError if malformed.

    Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL,
    serialNumber INTEGER, signature SEQUENCE, issuer SEQUENCE, validity SEQUENCE {
    notBefore Time, notAfter Time }, ... }, ... }; Time is UTCTime or
    GeneralizedTime, both in UTC ("Z").
    """
    tag, start, _end = _element(der, 0)
    if tag != 0x30:
        raise ValueError("not a certificate")
    tag, position, _end = _element(der, start)
    if tag != 0x30:
        raise ValueError("no tbsCertificate")
    tag, _start, end = _element(der, position)
    if tag == 0xA0:  # version
        position = end
    for expected in (0x02, 0x30, 0x30):  # serialNumber, signature, issuer
        tag, _start, end = _element(der, position)
        if tag != expected:
            raise ValueError("unexpected field before the validity")
        position = end
    tag, start, _end = _element(der, position)
    if tag != 0x30:
        raise ValueError("no validity")
    _tag, _start, end = _element(der, start)  # notBefore
    tag, start, end = _element(der, end)
    text = der[start:end].decode("ascii")
    if tag == 0x17 and re.fullmatch(r"\d{12}Z", text):  # UTCTime: YYMMDDHHMMSSZ
        year = int(text[:2])
        text = ("19" if year >= 50 else "20") + text
    elif tag != 0x18 or not re.fullmatch(r"\d{14}Z", text):  # GeneralizedTime
        raise ValueError("notAfter is not a UTC time")
    # Not strptime: it loads the locale machinery (_strptime) for six numbers.
    month, day, hour, minute, second = (int(text[i : i + 2]) for i in range(4, 14, 2))
    return datetime.datetime(
        int(text[:4]), month, day, hour, minute, second, tzinfo=datetime.UTC
    )


def load_certificate(cert: Path, key: Path) -> GatewayCertificate:
    """Check the operator's certificate and key; RuntimeError if they are unusable."""
    try:
        chain = pem_certificates(cert.read_bytes())
        _server_context(cert, key)
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
        der = pem_certificates(cert_path.read_bytes())[0]
        ends = _not_valid_after(der)
        _server_context(cert_path, key_path)
    except FileNotFoundError:
        pass
    except (OSError, ValueError, ssl.SSLError) as err:
        _LOGGER.warning(
            "The gateway certificate in %s is unreadable (%s): making a new one",
            folder,
            err,
        )
    else:
        if ends - RENEW_BEFORE > now:
            return GatewayCertificate(
                cert_path, key_path, fingerprint_of(der), self_signed=True
            )
        _LOGGER.info("The gateway certificate ends soon: making a new one")
    key_pem, cert_pem = _make_self_signed(device_id, hosts, now)
    write_private(key_path, key_pem)
    write_private(cert_path, cert_pem)
    fingerprint = fingerprint_of(pem_certificates(cert_pem)[0])
    _LOGGER.info("Created a self-signed gateway certificate %s", cert_path)
    return GatewayCertificate(cert_path, key_path, fingerprint, self_signed=True)


def _make_self_signed(
    device_id: str, hosts: Iterable[str], now: datetime.datetime
) -> tuple[bytes, bytes]:
    """Return (key, certificate) PEM of a new certificate, made by a child process."""
    request = {
        "device_id": device_id,
        "hosts": list(hosts),
        "now": now.timestamp(),
        "validity": VALIDITY.total_seconds(),
    }
    # The folder holding this package first, so the child imports this same copy.
    package_root = str(Path(__file__).resolve().parent.parent)
    python_path = os.pathsep.join(
        part for part in (package_root, os.environ.get("PYTHONPATH")) if part
    )
    try:
        result = subprocess.run(  # noqa: S603  # this interpreter, this module
            [sys.executable, "-m", "fluxilab_agent.certificate"],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=MAKE_TIMEOUT,
            check=False,
            env={**os.environ, "PYTHONPATH": python_path},
        )
    except (OSError, subprocess.SubprocessError) as err:
        raise RuntimeError(f"cannot make the gateway certificate: {err}") from err
    if result.returncode != 0:
        raise RuntimeError(
            "cannot make the gateway certificate: "
            + result.stderr.decode(errors="replace").strip()[-500:]
        )
    made = json.loads(result.stdout)
    return made["key"].encode("ascii"), made["cert"].encode("ascii")


def _build_self_signed(request: dict[str, Any]) -> dict[str, str]:
    """Make an ECDSA P-256 certificate (in the child process); PEM key and cert."""
    # Imported here: only making a certificate needs them (see the module's doc).
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: PLC0415

    device_id = str(request["device_id"])
    hosts = [str(host) for host in request["hosts"]]
    now = datetime.datetime.fromtimestamp(float(request["now"]), datetime.UTC)
    validity = datetime.timedelta(seconds=float(request["validity"]))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id[:64])])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + validity)
        .add_extension(_alternative_names(hosts), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "key": key_pem.decode("ascii"),
        "cert": certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    }


def _alternative_names(hosts: Iterable[str]) -> x509.SubjectAlternativeName:
    from cryptography import x509  # noqa: PLC0415

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


if __name__ == "__main__":
    sys.stdout.write(json.dumps(_build_self_signed(json.load(sys.stdin))))

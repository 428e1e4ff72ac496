"""A self-signed TLS certificate for the simulated mail hosts, generated at runtime and cached per process.

Why runtime: a committed key would be a "secret" in the repository and would expire; the sim only needs
*a* certificate that a verifying client rejects and a probing client (validate_certs=False) accepts.
Generated with the `cryptography` package when installed, else with the `openssl` command line tool.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import shutil
import ssl
import subprocess
import tempfile
import threading
from pathlib import Path

COMMON_NAME = "mail.sim.saraban.invalid"

_lock = threading.Lock()
_paths: tuple[str, str] | None = None
_context: ssl.SSLContext | None = None


def _generate_with_cryptography(cert_path: Path, key_path: Path) -> bool:
    """Write a fresh EC key and self-signed certificate; False when `cryptography` is not installed."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        return False
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    now = _dt.datetime.now(_dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(days=1))
        .not_valid_after(now + _dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(COMMON_NAME)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return True


def _generate_with_openssl(cert_path: Path, key_path: Path) -> None:
    """Fallback: the `openssl` CLI (raises when it is missing or fails)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("cannot create a test certificate: neither `cryptography` nor `openssl` is available")
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "30", "-subj", f"/CN={COMMON_NAME}",
            "-keyout", str(key_path), "-out", str(cert_path),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )


def cert_files() -> tuple[str, str]:
    """Paths of (certificate PEM, key PEM) in a private temp dir, created once per process."""
    global _paths
    with _lock:
        if _paths is None:
            tmp = Path(tempfile.mkdtemp(prefix="saraban-sim-cert-"))
            atexit.register(shutil.rmtree, tmp, True)
            cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
            if not _generate_with_cryptography(cert_path, key_path):
                _generate_with_openssl(cert_path, key_path)
            key_path.chmod(0o600)
            _paths = (str(cert_path), str(key_path))
        return _paths


def server_context() -> ssl.SSLContext:
    """The server-side TLS context every simulated host uses for STARTTLS (shared, cached)."""
    global _context
    cert, key = cert_files()
    with _lock:
        if _context is None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
            _context = ctx
        return _context

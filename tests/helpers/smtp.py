"""Real SMTP servers for tests: aiosmtpd on loopback (plain, STARTTLS, implicit TLS, login),
a self-signed certificate made on the spot, and a 'black hole' that accepts and never speaks.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .net import free_port

USER, PASSWORD = "clevercam@example.com", "app-password-1234"


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1, valid for a day; the certificate is its own CA file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    usage = x509.KeyUsage(
        digital_signature=True, key_cert_sign=True, content_commitment=False,
        key_encipherment=False, data_encipherment=False, key_agreement=False,
        crl_sign=False, encipher_only=False, decipher_only=False,
    )  # fmt: skip
    localhost = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(localhost, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class _Collector:
    """aiosmtpd handler: keeps every accepted message (the server runs in its own thread)."""

    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class MailServer:
    """aiosmtpd on 127.0.0.1. `security` as in the notify config; `login` requires AUTH."""

    def __init__(
        self,
        folder: Path,
        security: Literal["none", "starttls", "tls"] = "none",
        login: bool = False,
    ) -> None:
        self.port = free_port()
        self.security = security
        self.cert: Path | None = None
        self._collector = _Collector()
        kwargs: dict[str, Any] = {}
        if security != "none":
            self.cert, key = self_signed_cert(folder)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, key)
            if security == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        if login:
            # aiosmtpd only counts STARTTLS as encrypted, not implicit TLS: with the others
            # it offers the login without insisting on it.
            required = security == "starttls"
            kwargs.update(
                authenticator=_authenticate, auth_required=required, auth_require_tls=required
            )
        self._controller = Controller(
            self._collector, hostname="127.0.0.1", port=self.port, **kwargs
        )

    @property
    def messages(self) -> list[Received]:
        with self._collector.lock:
            return list(self._collector.messages)

    def config(self, **overrides: Any) -> dict[str, Any]:
        """The `notify.email` section that reaches this server."""
        email: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "security": self.security,
            "from": "Clevercam <clevercam@example.com>",
            "to": ["owner@example.com", "partner@example.com"],
            "timeout": 5,
        }
        if self.cert is not None:
            email["ca_file"] = str(self.cert)
        email.update(overrides)
        return email

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == USER
        and auth_data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False)


class BlackHole:
    """A port that accepts connections (into the backlog) and never answers: a hung server.

    Closing it resets the waiting connections, so a client stuck on it fails at once.
    """

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)
        self.port = int(self._socket.getsockname()[1])

    def close(self) -> None:
        self._socket.close()

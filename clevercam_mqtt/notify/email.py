"""One mail: built with the stdlib `email` package, sent with blocking `smtplib`.

The sink calls `send_message` through `asyncio.to_thread`: one mail at a time from one
worker, so a thread costs nothing and no extra dependency (aiosmtplib) is needed; the
SMTP timeout bounds how long that thread can hang. Every failure becomes a `MailError`
with a message a user can act on, and a flag telling the worker whether a retry can help.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from .config import EmailConfig


class MailError(Exception):
    """Sending failed; `permanent` means retrying the same mail will fail again."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    data: bytes
    subtype: str = "jpeg"


def build_message(
    config: EmailConfig, subject: str, body: str, attachment: Attachment | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    message["Date"] = format_datetime(datetime.now().astimezone())
    domain = parseaddr(config.sender)[1].rpartition("@")[2] or "clevercam.local"
    message["Message-ID"] = make_msgid("clevercam", domain=domain)
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(
            attachment.data, "image", attachment.subtype, filename=attachment.filename
        )
    return message


def send_message(config: EmailConfig, message: EmailMessage) -> None:
    """Deliver to the server (blocking); raises MailError."""
    where = f"{config.host}:{config.server_port}"
    try:
        _send(config, message)
    except smtplib.SMTPAuthenticationError as error:
        raise MailError(f"{where} refused the login: {_reply(error)}", permanent=True) from None
    except smtplib.SMTPNotSupportedError as error:
        raise MailError(f"{where}: {error}", permanent=True) from None
    except smtplib.SMTPRecipientsRefused as error:
        refused = ", ".join(f"{rcpt} ({_reply(reply)})" for rcpt, reply in error.recipients.items())
        raise MailError(f"{where} refused the recipients: {refused}", permanent=True) from None
    except smtplib.SMTPSenderRefused as error:
        raise MailError(
            f"{where} refused the sender {config.sender}: {_reply(error)}", permanent=True
        ) from None
    except smtplib.SMTPResponseException as error:
        permanent = 500 <= error.smtp_code < 600
        raise MailError(f"{where} answered {_reply(error)}", permanent=permanent) from None
    except smtplib.SMTPServerDisconnected as error:
        raise MailError(f"{where} closed the connection ({error})") from None
    except ssl.SSLCertVerificationError as error:
        raise MailError(
            f"{where}: TLS certificate not trusted ({error.verify_message}); set ca_file for a "
            "server with its own certificate",
            permanent=True,
        ) from None
    except ssl.SSLError as error:
        raise MailError(
            f"{where}: TLS failed ({error.reason or error}); check security "
            f"({config.security}) against the port",
            permanent=True,
        ) from None
    except ConnectionRefusedError:
        raise MailError(f"{where}: connection refused") from None
    except TimeoutError:
        raise MailError(f"{where}: no answer within {config.timeout:g} s") from None
    except socket.gaierror as error:
        raise MailError(f"{config.host}: cannot resolve the name ({error.strerror})") from None
    except smtplib.SMTPException as error:
        raise MailError(f"{where}: {error}") from None
    except OSError as error:
        raise MailError(f"{where}: {error.strerror or error}") from None


def _send(config: EmailConfig, message: EmailMessage) -> None:
    try:
        context = ssl.create_default_context(cafile=config.ca_file)
    except OSError as error:
        raise MailError(f"ca_file {config.ca_file}: {error.strerror or error}", True) from None
    client: smtplib.SMTP
    if config.security == "tls":
        client = smtplib.SMTP_SSL(
            config.host, config.server_port, timeout=config.timeout, context=context
        )
    else:
        client = smtplib.SMTP(config.host, config.server_port, timeout=config.timeout)
    with client:
        if config.security == "starttls":
            client.ehlo()
            if not client.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError(
                    "the server does not offer STARTTLS; use security: tls or none"
                )
            client.starttls(context=context)
        if config.username is not None and config.password is not None:
            client.ehlo_or_helo_if_needed()
            if not client.has_extn("auth"):
                raise smtplib.SMTPNotSupportedError(
                    "the server offers no login (AUTH); leave out username and password, or "
                    "choose security starttls or tls if it wants encryption first"
                )
            client.login(config.username, config.password)
        recipients = [parseaddr(address)[1] for address in config.to]
        refused = client.send_message(
            message, from_addr=parseaddr(config.sender)[1], to_addrs=recipients
        )
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)


def _reply(error: smtplib.SMTPResponseException | tuple[int, bytes]) -> str:
    code, text = (error.smtp_code, error.smtp_error) if isinstance(error, Exception) else error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(str(text).split())}"

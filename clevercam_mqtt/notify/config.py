"""Settings of the email notifications (the `notify:` section of the config file).

The models stand alone (the main config imports them, not the other way round); the
check that named cameras and ROIs exist runs from the main config, which knows the cameras.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from .templates import template_error

if TYPE_CHECKING:
    from ..config import CameraConfig

Security = Literal["starttls", "tls", "none"]
DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_SUBJECT = "{camera}: {labels} in {roi}"
DEFAULT_BODY = "{camera} saw {labels} ({scores}) in {roi} at {time}.\n{url}\n"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)


def _address(value: str) -> str:
    """'Name <a@b.c>' or 'a@b.c'; no line breaks (they would inject headers)."""
    if "\r" in value or "\n" in value:
        raise ValueError("must be on one line")
    _, address = parseaddr(value)
    if "@" not in address or any(c.isspace() for c in address):
        raise ValueError(f"{value!r} is not an email address")
    return value.strip()


class EmailConfig(_Strict):
    host: str = Field(min_length=1, description="SMTP server (smtp.gmail.com).")
    port: int | None = Field(
        None, ge=1, le=65535, description="Default 587 for starttls, 465 for tls, 25 for none."
    )
    security: Security = Field(
        "starttls",
        description="starttls: plain connection upgraded to TLS; tls: TLS from the start; "
        "none: no encryption (a relay on the local network only).",
    )
    username: str | None = Field(None, description="Login; leave out for a relay without login.")
    password: str | None = Field(None, description="Use ${ENV_VAR} rather than the secret itself.")
    sender: str = Field(alias="from", description="From address: 'Clevercam <me@example.com>'.")
    to: list[str] = Field(min_length=1, description="Recipients (one address or a list).")
    subject: str = Field(DEFAULT_SUBJECT, min_length=1, description="Subject template.")
    body: str = Field(DEFAULT_BODY, description="Plain-text body template.")
    timeout: float = Field(20, gt=0, le=300, description="Seconds per SMTP connection attempt.")
    ca_file: Path | None = Field(
        None, description="Extra CA certificate to trust (a server with its own certificate)."
    )

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _address(value)

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("to")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        return [_address(item) for item in value]

    @field_validator("subject", "body")
    @classmethod
    def _template(cls, value: str) -> str:
        error = template_error(value)
        if error:
            raise ValueError(error)
        return value

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("must be on one line")
        return value

    @model_validator(mode="after")
    def _login_pair(self) -> EmailConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password must be set together")
        return self

    @property
    def server_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]


class CameraRule(_Strict):
    rois: list[str] | None = Field(
        None, min_length=1, description="ROI names that mail; leave out for every ROI."
    )
    labels: list[str] | None = Field(
        None,
        min_length=1,
        description="Labels that mail (of those the ROI reports); leave out for all.",
    )
    min_interval: float | None = Field(
        None, ge=0, le=7 * 86400, description="Overrides notify.min_interval for this camera."
    )

    @field_validator("rois", "labels")
    @classmethod
    def _names(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = [item.strip() for item in value]
        if any(not item for item in cleaned):
            raise ValueError("must not hold empty strings")
        return cleaned


class NotifyConfig(_Strict):
    enabled: bool = Field(True, description="Switch mails off without removing the settings.")
    email: EmailConfig
    cameras: dict[str, CameraRule] | None = Field(
        None,
        description="Cameras that mail, each with optional ROI and label lists; "
        "leave out for every camera.",
    )
    min_interval: float = Field(
        300, ge=0, le=7 * 86400, description="Seconds between two mails of the same camera."
    )
    max_wait: float = Field(
        20,
        ge=0,
        le=600,
        description="A mail leaves when its sequence ends, or this many seconds after the "
        "sequence's first event, whichever comes first; 0 sends the first event at once.",
    )
    attach_image: bool = Field(True, description="Attach the JPEG of the best event.")
    queue_size: int = Field(20, ge=1, le=1000, description="Mails waiting for the server.")
    retries: int = Field(3, ge=0, le=20, description="Extra attempts after a failed one.")
    retry_delay: float = Field(
        10, gt=0, le=3600, description="Seconds before the first retry; doubles each time."
    )

    @field_validator("cameras", mode="before")
    @classmethod
    def _camera_list(cls, value: Any) -> Any:
        """A list of ids means those cameras with no further filter; `id:` alone means {}."""
        if isinstance(value, list):
            return {str(item): {} for item in value}
        if isinstance(value, dict):
            return {key: {} if rule is None else rule for key, rule in value.items()}
        return value

    def rule(self, camera_id: str) -> CameraRule | None:
        """The camera's rule; None when the camera does not mail."""
        if self.cameras is None:
            return CameraRule()
        return self.cameras.get(camera_id)

    def check_cameras(self, cameras: Sequence[CameraConfig]) -> None:
        """Every camera and ROI named here exists (ROIs by name or slug, any case)."""
        errors: list[InitErrorDetails] = []
        known = {camera.id: camera for camera in cameras}
        for camera_id, rule in (self.cameras or {}).items():
            loc: tuple[int | str, ...] = ("notify", "cameras", camera_id)
            camera = known.get(camera_id)
            if camera is None:
                errors.append(_error(loc, camera_id, f"no camera has the id {camera_id!r}"))
                continue
            names = {roi.slug for roi in camera.rois} | {roi.name.lower() for roi in camera.rois}
            for index, name in enumerate(rule.rois or []):
                if name.lower() not in names:
                    have = ", ".join(roi.name for roi in camera.rois) or "none"
                    message = f"camera {camera_id!r} has no ROI {name!r} (it has: {have})"
                    errors.append(_error((*loc, "rois", index), name, message))
        if errors:
            raise ValidationError.from_exception_data("Config", errors)


def _error(loc: tuple[int | str, ...], value: Any, message: str) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError("notify_reference", message), loc=loc, input=value
    )

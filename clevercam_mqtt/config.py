"""The YAML configuration, validated at the edge so the rest of the code trusts it.

Every model forbids unknown keys: a typo in the file is an error naming its key path,
never a silently ignored setting.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .notify.config import NotifyConfig

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BUNDLED_MODELS = Path(__file__).parent / "models"
DEFAULT_MODEL = "mobilenet_v3_large_minimalistic_224_uint8"
_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """The configuration cannot be used; the message names every bad key."""


class Base(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StorageConfig(Base):
    path: Path = Field(Path("data"), description="Folder of the history (index and JPEG files).")
    retain_days: int = Field(30, ge=1, le=3650, description="Events older than this are removed.")
    max_disk_mb: int = Field(2000, ge=10, description="The history never grows past this size.")
    thumbnail_size: int = Field(224, ge=64, le=640, description="Longest side of thumbnails.")


class WebConfig(Base):
    host: str = "0.0.0.0"
    port: int = Field(8080, ge=0, le=65535)
    username: str | None = None
    password: str | None = None
    token: str | None = Field(None, description="Bearer token for machines (the HA component).")
    base_url: str | None = Field(
        None, description="Public URL of the web server, used in MQTT payloads when set."
    )

    @model_validator(mode="after")
    def _login_pair(self) -> WebConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password must be set together")
        return self


class MqttConfig(Base):
    enabled: bool = True
    host: str = "localhost"
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    topic_prefix: str = Field("clevercam", pattern=r"^[^#+\s]+$")
    discovery_prefix: str = Field("homeassistant", pattern=r"^[^#+\s]+$")
    discovery: bool = True
    tls: bool = False
    ca_file: Path | None = None
    queue_size: int = Field(1000, ge=1, description="Events kept while the broker is away.")
    keepalive: int = Field(30, ge=5, le=3600)


class ModelConfig(Base):
    path: str = Field(
        f"models/{DEFAULT_MODEL}",
        description="Model folder (model.tflite + labels.txt); relative to the config file, "
        "or the name of a model shipped with clevercam.",
    )
    threads: int = Field(2, ge=1, le=16)
    min_score: float = Field(0.2, ge=0.0, le=1.0)
    top_k: int = Field(5, ge=1, le=100)


class Schedule(Base):
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    from_hour: float = Field(0, ge=0, le=24)
    to_hour: float = Field(24, ge=0, le=24)

    @model_validator(mode="after")
    def _hours(self) -> Schedule:
        if self.from_hour == self.to_hour and self.from_hour not in (0, 24):
            raise ValueError("from_hour and to_hour are equal: the camera would never run")
        return self


class MotionConfig(Base):
    pixel_threshold: float = Field(
        0.2, gt=0.0, lt=1.0, description="Grey-level change (0..1) for a pixel to count as changed."
    )
    min_changed_fraction: float = Field(
        0.01, ge=0.0, le=1.0, description="Fraction of changed pixels that makes a ROI 'moving'."
    )
    scale: Literal[1, 2, 4, 8] = Field(
        8, description="JPEG scaled decode factor for the motion check (8 = 1/8 size)."
    )


class Roi(Base):
    name: str = Field(min_length=1, max_length=64)
    box: tuple[float, float, float, float] = Field(
        description="x_min, y_min, x_max, y_max in percent of the image."
    )
    labels: list[str] = Field(default_factory=lambda: ["*"])
    enabled: bool = True

    @field_validator("box")
    @classmethod
    def _box(cls, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = box
        for value in box:
            if not 0 <= value <= 100:
                raise ValueError("values are percent and must be within 0..100")
        if x0 >= x1:
            raise ValueError("x_min must be < x_max")
        if y0 >= y1:
            raise ValueError("y_min must be < y_max")
        return box

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: list[str]) -> list[str]:
        cleaned = [label.strip() for label in labels]
        if any(not label for label in cleaned):
            raise ValueError("labels must not be empty strings")
        return cleaned

    @property
    def slug(self) -> str:
        return slugify(self.name)


class CameraConfig(Base):
    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=64)
    name: str | None = None
    url: str = Field(min_length=1)
    username: str | None = None
    password: str | None = None
    auth: Literal["auto", "basic", "digest", "none"] = "auto"
    check_period: float = Field(5, ge=0.05, le=3600)
    timeout: float = Field(5, gt=0, le=120)
    max_image_mb: float = Field(20, gt=0, le=200, description="Answers larger than this fail.")
    max_sequence_length: int = Field(10, ge=1, le=10000)
    sequence_gap: float = Field(5, gt=0, le=3600)
    monitoring: bool = True
    schedule: Schedule = Field(default_factory=Schedule)
    motion: MotionConfig = Field(default_factory=MotionConfig)
    rois: list[Roi] = Field(default_factory=list)
    rtsp_transport: Literal["tcp", "udp"] = "tcp"
    decode: Literal["keyframes", "all"] = "keyframes"
    snapshot_url: str | None = Field(
        None, description="RTSP cameras: HTTP snapshot URL for the stored event images."
    )

    @field_validator("snapshot_url")
    @classmethod
    def _snapshot_url(cls, url: str | None) -> str | None:
        if url is not None and url.split("://", 1)[0].lower() not in ("http", "https"):
            raise ValueError("must start with http:// or https://")
        return url

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in ("http", "https", "file", "demo", "rtsp", "rtsps"):
            raise ValueError(
                "must start with http://, https://, rtsp://, rtsps://, file:// or demo://"
            )
        if scheme in ("http", "https", "rtsp", "rtsps"):
            parts = urlsplit(url)
            try:
                parts.port  # noqa: B018 - parsing it is the check
            except ValueError:
                raise ValueError("the port must be a number 0..65535") from None
            if not parts.hostname:
                raise ValueError("has no host name")
        return url

    @model_validator(mode="after")
    def _unique_rois(self) -> CameraConfig:
        seen: set[str] = set()
        for roi in self.rois:
            if roi.slug in seen:
                raise ValueError(f"two ROIs are named {roi.name!r}")
            seen.add(roi.slug)
        return self

    @property
    def display_name(self) -> str:
        return self.name or self.id.replace("_", " ").title()


class Config(Base):
    storage: StorageConfig = Field(default_factory=StorageConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    cameras: Annotated[list[CameraConfig], Field(default_factory=list)]
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    notify: NotifyConfig | None = Field(None, description="Email notifications (docs/notify.md).")

    @model_validator(mode="after")
    def _unique_cameras(self) -> Config:
        ids = [camera.id for camera in self.cameras]
        duplicates = sorted({cid for cid in ids if ids.count(cid) > 1})
        if duplicates:
            raise ValueError(f"camera ids must be unique: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _notify_cameras(self) -> Config:
        if self.notify is not None:
            self.notify.check_cameras(self.cameras)
        return self

    def camera(self, camera_id: str) -> CameraConfig:
        for camera in self.cameras:
            if camera.id == camera_id:
                return camera
        raise KeyError(camera_id)


def slugify(name: str) -> str:
    """Topic- and id-safe form of a user-given name ("Front gate" -> "front_gate")."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "roi"


def format_location(loc: Iterable[int | str]) -> str:
    """('cameras', 0, 'rois', 1, 'box') -> 'cameras[0].rois[1].box'."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def format_validation_error(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        loc = [part for part in item["loc"] if not str(part).startswith("function-")]
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{format_location(loc)}: {message}")
    return "\n".join(lines)


def expand_env(value: Any, path: tuple[int | str, ...] = ()) -> Any:
    """Replace ${NAME} (or ${NAME:-default}) in every string of the parsed YAML."""
    if isinstance(value, dict):
        return {key: expand_env(item, (*path, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_env(item, (*path, index)) for index, item in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(f"{format_location(path)}: environment variable {name} is not set")

    return _ENV_PATTERN.sub(substitute, value)


def parse_config(data: Any) -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("(top level): the file must hold a mapping of settings")
    try:
        return Config.model_validate(expand_env(data))
    except ValidationError as error:
        raise ConfigError(format_validation_error(error)) from None


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from None


def load_config(path: Path) -> Config:
    """Read, expand and validate; relative storage paths are taken from the config's folder."""
    config = parse_config(read_yaml(path))
    base = path.resolve().parent
    if not config.storage.path.is_absolute():
        config.storage.path = base / config.storage.path
    return config


def resolve_model_path(model_path: str, config_dir: Path | None) -> Path:
    """A model folder: as given, relative to the config, or one shipped with clevercam."""
    candidate = Path(model_path).expanduser()
    if candidate.is_absolute():
        return candidate
    if config_dir is not None and (config_dir / candidate).exists():
        return config_dir / candidate
    bundled = BUNDLED_MODELS / candidate.name
    if bundled.exists():
        return bundled
    return (config_dir or Path.cwd()) / candidate

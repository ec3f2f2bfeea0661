"""What a user defines: a class set (its classes, mode, ROIs), validated at the edge."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..config import slugify
from .training import UNKNOWN

RESERVED = {UNKNOWN, "*"}
RESERVED_SLUGS = {"states", "import"}  # paths of the API beside /api/classes/{slug}
NONE = "none"


class ClassSetSpec(BaseModel):
    """A class set: at least two classes (`none` allowed), the ROIs it looks at, a mode.

    `label` mode adds the recognised class to the labels of events in its ROIs (so a ROI
    can list it like an ImageNet label); `state` mode classifies its ROIs every `interval`
    seconds and on motion, and publishes the current state.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    classes: list[str] = Field(min_length=2, max_length=32)
    rois: list[str] = Field(
        default_factory=list,
        description="'camera/roi' references; empty means every ROI (label mode only).",
    )
    mode: Literal["label", "state"] = "label"
    interval: float = Field(30.0, ge=1.0, le=86400.0, description="State mode: seconds.")

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        name = name.strip()
        if not any(ch.isalnum() for ch in name):
            raise ValueError("must contain a letter or a digit")
        if slugify(name) in RESERVED_SLUGS:
            raise ValueError(f"{name!r} is reserved")
        return name

    @field_validator("classes")
    @classmethod
    def _classes(cls, classes: list[str]) -> list[str]:
        cleaned = [name.strip() for name in classes]
        seen: set[str] = set()
        for name in cleaned:
            if not name or len(name) > 64:
                raise ValueError("class names must be 1..64 characters")
            if name.lower() in RESERVED:
                raise ValueError(f"{name!r} is reserved")
            if name.lower() in seen:
                raise ValueError(f"class {name!r} is listed twice")
            seen.add(name.lower())
        return cleaned

    @field_validator("rois")
    @classmethod
    def _rois(cls, rois: list[str]) -> list[str]:
        for ref in rois:
            camera, _, roi = ref.partition("/")
            if not camera or not roi or "/" in roi:
                raise ValueError(f"{ref!r} is not 'camera/roi'")
        if len(set(rois)) != len(rois):
            raise ValueError("a ROI is listed twice")
        return rois

    @model_validator(mode="after")
    def _state_needs_rois(self) -> ClassSetSpec:
        if self.mode == "state" and not self.rois:
            raise ValueError("rois: a state class set needs at least one ROI")
        return self

    @property
    def slug(self) -> str:
        return slugify(self.name)

    def applies_to(self, camera: str, roi: str) -> bool:
        return not self.rois or f"{camera}/{roi}" in self.rois

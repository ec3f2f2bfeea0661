"""Config faults: every invalid field is named; a broken config is refused while running."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import annotated_types
import pytest
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from clevercam_mqtt.config import CameraConfig, Config, ConfigError, format_location, parse_config
from tests.helpers.camera import LocalCamera
from tests.helpers.service import camera_config, running_service, service_config
from tests.helpers.small_disk import fill, small_disk
from tests.helpers.waiting import wait_for
from tests.helpers.web import client

Path_ = tuple[str | int, ...]
VALID: dict[str, Any] = {
    "cameras": [
        {
            "id": "driveway",
            "url": "http://127.0.0.1/snapshot.jpg",
            "rois": [{"name": "gate", "box": [0, 0, 50, 50]}],
        }
    ]
}


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model inside `Model`, `Model | None` or `list[Model]`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, Union) or type(annotation).__name__ == "UnionType":
        for arg in get_args(annotation):
            model = _model_of(arg)
            if model is not None:
                return model
    return None


def leaves(model: type[BaseModel], path: Path_ = ()) -> Iterator[tuple[Path_, FieldInfo]]:
    """Every setting of the config, with its key path (lists are entered at item 0)."""
    for name, field in model.model_fields.items():
        inner = _model_of(field.annotation)
        if inner is None:
            yield (*path, name), field
        elif get_origin(field.annotation) is list:
            yield from leaves(inner, (*path, name, 0))
        else:
            yield from leaves(inner, (*path, name))


def models(model: type[BaseModel], path: Path_ = ()) -> Iterator[Path_]:
    """The key path of every section (each forbids unknown keys)."""
    yield path
    for name, field in model.model_fields.items():
        inner = _model_of(field.annotation)
        if inner is not None:
            step = (name, 0) if get_origin(field.annotation) is list else (name,)
            yield from models(inner, (*path, *step))


def with_value(path: Path_, value: Any, data: dict[str, Any] | None = None) -> dict[str, Any]:
    data = copy.deepcopy(VALID) if data is None else data
    node: Any = data
    for step, following in itertools.pairwise(path):
        if isinstance(step, str) and step not in node:
            node[step] = [{}] if isinstance(following, int) else {}
        node = node[step]
    node[path[-1]] = value
    return data


def wrong_type(field: FieldInfo) -> Any:
    return (
        42
        if get_origin(field.annotation) is dict or "dict" in str(field.annotation)
        else {"not": ["a setting"]}
    )


def out_of_range(field: FieldInfo) -> list[Any]:
    values: list[Any] = []
    for rule in field.metadata:
        if isinstance(rule, annotated_types.Ge):
            values.append(rule.ge - 1)
        elif isinstance(rule, annotated_types.Gt):
            values.append(rule.gt)
        elif isinstance(rule, annotated_types.Le):
            values.append(rule.le + 1)
        elif isinstance(rule, annotated_types.Lt):
            values.append(rule.lt)
        elif isinstance(rule, annotated_types.MaxLen):
            values.append("a" * (rule.max_length + 1))
        elif isinstance(rule, annotated_types.MinLen):
            values.append("")
        elif getattr(rule, "pattern", None):
            values.append("Not A Valid #+ Value")
    return values


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return str(caught.value)


def names(message: str, path: Path_) -> bool:
    """A line of the message is about this field (a section created for the test may add
    lines for its own required fields)."""
    return any(line.startswith(f"{format_location(path)}: ") for line in message.splitlines())


LEAVES = list(leaves(Config))
RANGED = [(path, value) for path, field in LEAVES for value in out_of_range(field)]


def test_the_walk_sees_every_section() -> None:
    names = {format_location(path) for path, _ in LEAVES}
    assert {"storage.max_disk_mb", "web.password", "mqtt.queue_size", "model.top_k", "log_level",
            "cameras[0].schedule.from_hour", "cameras[0].motion.scale",
            "cameras[0].rois[0].box"} <= names  # fmt: skip
    assert len(RANGED) >= 20


@pytest.mark.parametrize("path", [p for p, _ in LEAVES], ids=format_location)
def test_a_wrong_type_names_its_field(path: Path_) -> None:
    field = dict(LEAVES)[path]
    message = error_of(with_value(path, wrong_type(field)))
    assert names(message, path), message


@pytest.mark.parametrize(
    ("path", "value"), RANGED, ids=[f"{format_location(p)}={v!r}"[:60] for p, v in RANGED]
)
def test_a_value_out_of_range_names_its_field(path: Path_, value: Any) -> None:
    message = error_of(with_value(path, value))
    assert names(message, path), message


@pytest.mark.parametrize("path", list(models(Config)), ids=format_location)
def test_an_unknown_key_is_named_in_every_section(path: Path_) -> None:
    typo = (*path, "chek_period")
    message = error_of(with_value(typo, 5))
    assert f"{format_location(typo)}: Extra inputs are not permitted" in message.splitlines()


def test_every_bad_field_is_named_at_once() -> None:
    data = copy.deepcopy(VALID)
    for path, field in LEAVES:
        with_value(path, wrong_type(field), data)
    lines = error_of(data).splitlines()
    named = {line.split(": ", 1)[0] for line in lines}
    assert named == {format_location(path) for path, _ in LEAVES}


# -- a broken config while running ------------------------------------------------------------


async def test_a_broken_change_is_refused_and_the_running_config_kept(
    tmp_path: Path, camera: LocalCamera
) -> None:
    cameras = [camera_config(camera.url("open")), camera_config(camera.url("open"), id="garden")]
    async with running_service(tmp_path, service_config(tmp_path, cameras)) as service:
        path = service.config_path
        assert path is not None
        original = path.read_text()
        running = service.config.camera("driveway")
        monitor = service.monitors["driveway"]
        await wait_for(lambda: service.states["driveway"].frames_checked >= 2, 20, "frames")

        bad = camera_config(camera.url("open"), check_period=-1)
        with pytest.raises(ConfigError, match=r"^cameras\[0\]\.check_period: Input should be"):
            await service.replace_camera(running.model_copy(), bad)
        clash = camera_config(camera.url("open"), id="garden")  # valid alone, not in the file
        with pytest.raises(ConfigError, match="camera ids must be unique: garden"):
            await service.replace_camera(running.model_copy(), clash)
        with pytest.raises(
            ConfigError, match=r"^cameras\[0\]\.rois\[0\]\.labels: labels must not be empty"
        ):
            await service.set_roi_labels("driveway", "gate", [" "])

        assert path.read_text() == original
        assert not path.with_name(path.name + ".bak").exists()
        assert service.config.camera("driveway") is running
        assert running.check_period == 0.2 and running.rois[0].labels[0] == "Egyptian cat"
        assert service.monitors["driveway"] is monitor
        checked = service.states["driveway"].frames_checked
        await wait_for(lambda: service.states["driveway"].frames_checked > checked + 2, 20, "on")

        # A valid change still goes through (and keeps the previous file as .bak).
        good = camera_config(camera.url("open"), check_period=0.3)
        await service.replace_camera(CameraConfig.model_validate(good), good)
        assert service.config.camera("driveway").check_period == 0.3
        assert yaml.safe_load(path.read_text())["cameras"][0]["check_period"] == 0.3
        assert path.with_name(path.name + ".bak").read_text() == original


async def test_a_file_broken_by_hand_refuses_changes_and_keeps_running(
    tmp_path: Path, camera: LocalCamera
) -> None:
    config = service_config(tmp_path, [camera_config(camera.url("open"))])
    async with running_service(tmp_path, config) as service:
        path = service.config_path
        assert path is not None
        path.write_text("cameras: [\n  - id: driveway\n")  # an editor saved half a file
        with pytest.raises(ConfigError, match="is not valid YAML"):
            await service.set_monitoring("driveway", False)
        with pytest.raises(ConfigError, match="is not valid YAML"):
            await service.set_roi_enabled("driveway", "gate", False)
        async with (
            client(service) as http,
            http.put("/api/cameras/driveway/rois/gate", json={"enabled": False}) as response,
        ):
            assert response.status == 409
            assert "is not valid YAML" in (await response.json())["error"]
        assert service.config.camera("driveway").monitoring is True
        assert service.config.camera("driveway").rois[0].enabled is True
        assert path.read_text() == "cameras: [\n  - id: driveway\n"  # not "repaired" by us
        state = service.states["driveway"]
        checked = state.frames_checked
        await wait_for(lambda: state.frames_checked > checked + 2, 20, "monitoring goes on")


async def test_a_change_on_a_full_disk_is_refused_and_the_file_kept(
    tmp_path: Path, camera: LocalCamera
) -> None:
    config = service_config(tmp_path, [camera_config(camera.url("open"))])
    with small_disk(tmp_path / "etc", 512) as folder:
        async with running_service(folder, config) as service:
            path = service.config_path
            assert path is not None and path.parent == folder
            original = path.read_text()
            ballast = fill(folder)
            with pytest.raises(ConfigError, match=r"^cannot write .*: No space left on device$"):
                await service.set_monitoring("driveway", False)
            async with (  # the web page gets the same reason
                client(service) as http,
                http.post(
                    "/api/cameras/driveway/monitoring", json={"monitoring": False}
                ) as response,
            ):
                assert response.status == 409
                assert "No space left on device" in (await response.json())["error"]
            assert path.read_text() == original
            assert sorted(p.name for p in folder.iterdir()) == ["ballast.bin", "clevercam.yaml"]
            assert service.config.camera("driveway").monitoring is True

            ballast.unlink()
            await service.set_monitoring("driveway", False)
            assert yaml.safe_load(path.read_text())["cameras"][0]["monitoring"] is False
            assert path.with_name("clevercam.yaml.bak").read_text() == original


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://cam.local:port/snapshot.jpg", "the port must be a number 0..65535"),
        ("http://cam.local:99999/snapshot.jpg", "the port must be a number 0..65535"),
        ("http:///snapshot.jpg", "has no host name"),
        ("rtsp://:554/stream", "has no host name"),
        ("ftp://cam.local/snapshot.jpg", "must start with http://"),
    ],
)
def test_a_camera_url_that_cannot_work_is_named(url: str, message: str) -> None:
    """Refused at start, rather than an error on every fetch for months."""
    assert error_of(with_value(("cameras", 0, "url"), url)).startswith(f"cameras[0].url: {message}")

"""Bad configurations fail at start with the key path and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from clevercam_mqtt.config import ConfigError, load_config, parse_config

CAMERA = {"id": "driveway", "url": "http://127.0.0.1/snap.jpg"}


def error_of(data: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return str(caught.value)


def test_example_config_is_valid() -> None:
    config = load_config(Path(__file__).parents[2] / "config.example.yaml")
    assert config.cameras[0].url.startswith("demo://")
    assert [roi.slug for roi in config.cameras[0].rois] == ["porch", "driveway"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {
                "cameras": [
                    {
                        **CAMERA,
                        "rois": [
                            {"name": "a", "box": [0, 0, 10, 10]},
                            {"name": "b", "box": [50, 0, 10, 10]},
                        ],
                    }
                ]
            },
            "cameras[0].rois[1].box: x_min must be < x_max",
        ),
        (
            {"cameras": [{**CAMERA, "rois": [{"name": "a", "box": [0, 20, 10, 10]}]}]},
            "cameras[0].rois[0].box: y_min must be < y_max",
        ),
        (
            {"cameras": [{**CAMERA, "rois": [{"name": "a", "box": [0, 0, 10, 120]}]}]},
            "cameras[0].rois[0].box: values are percent",
        ),
        ({"cameras": [{**CAMERA, "id": "Drive Way"}]}, "cameras[0].id: String should match"),
        ({"cameras": [{**CAMERA, "chek_period": 5}]}, "cameras[0].chek_period: Extra inputs"),
        ({"cameras": [{**CAMERA, "check_period": -1}]}, "cameras[0].check_period: Input should be"),
        ({"cameras": [{**CAMERA, "auth": "ntlm"}]}, "cameras[0].auth: Input should be"),
        ({"cameras": [{**CAMERA, "url": "ftp://x"}]}, "cameras[0].url: must start with"),
        ({"cameras": [{**CAMERA, "schedule": {"days": ["mo"]}}]}, "cameras[0].schedule.days[0]"),
        ({"cameras": [CAMERA, CAMERA]}, "camera ids must be unique: driveway"),
        ({"mqtt": {"port": 70000}}, "mqtt.port: Input should be less than or equal to 65535"),
        ({"model": {"min_score": 2}}, "model.min_score"),
        ({"web": {"username": "me"}}, "web: username and password must be set together"),
        ({"storage": {"retain_days": 0}}, "storage.retain_days"),
        ({"motion": {}}, "motion: Extra inputs are not permitted"),
        (
            {
                "cameras": [
                    {
                        **CAMERA,
                        "rois": [
                            {"name": "Gate", "box": [0, 0, 1, 1]},
                            {"name": "gate", "box": [0, 0, 1, 1]},
                        ],
                    }
                ]
            },
            "cameras[0]: two ROIs are named 'gate'",
        ),
    ],
)
def test_bad_values_name_their_key(data: dict, expected: str) -> None:
    assert expected in error_of(data)


def test_env_expansion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAM_PASSWORD", "hunter2")
    config = parse_config(
        {"cameras": [{**CAMERA, "password": "${CAM_PASSWORD}", "username": "${CAM_USER:-admin}"}]}
    )
    assert config.cameras[0].password == "hunter2"
    assert config.cameras[0].username == "admin"


def test_missing_env_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE", raising=False)
    message = error_of({"cameras": [{**CAMERA, "password": "${NOPE}"}]})
    assert message == "cameras[0].password: environment variable NOPE is not set"


def test_not_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("cameras: [\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_config(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(listing)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_relative_storage_is_taken_from_the_config_folder(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("storage: {path: history}\n")
    assert load_config(path).storage.path == tmp_path / "history"

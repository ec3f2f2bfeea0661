"""Every translation key the code uses exists, and en.json is strings.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

COMPONENT = Path(__file__).resolve().parents[2] / "custom_components" / "clevercam"


def _strings() -> dict:
    return json.loads((COMPONENT / "strings.json").read_text())


def test_english_translation_is_strings_json() -> None:
    assert json.loads((COMPONENT / "translations" / "en.json").read_text()) == _strings()


def test_every_key_used_in_the_code_is_translated() -> None:
    strings = _strings()
    entity_keys = {key for platform in strings["entity"].values() for key in platform}
    code = "\n".join(source.read_text() for source in COMPONENT.glob("*.py"))
    attributes = set(re.findall(r'_attr_translation_key = "(\w+)"', code))
    arguments = set(re.findall(r'translation_key="(\w+)"', code))
    assert attributes and attributes <= entity_keys
    # Keyword arguments name sensor descriptions (entities) or exceptions.
    assert arguments - entity_keys <= set(strings["exceptions"])
    assert {"cannot_connect", "invalid_auth", "wrong_service"} <= set(strings["exceptions"])
    errors = {"cannot_connect", "invalid_auth", "token_or_login", "login_incomplete"}
    assert errors <= set(strings["config"]["error"])


def test_every_action_is_described() -> None:
    import yaml

    actions = yaml.safe_load((COMPONENT / "services.yaml").read_text())
    strings = _strings()["services"]
    icons = json.loads((COMPONENT / "icons.json").read_text())["services"]
    for action, spec in actions.items():
        assert set(spec["fields"]) == set(strings[action]["fields"])
        assert action in icons

"""The example config's demo camera shows real events on a machine with no camera."""

from __future__ import annotations

from pathlib import Path

from clevercam_mqtt.config import load_config
from clevercam_mqtt.store import EventQuery
from tests.helpers.service import running_service, service_config
from tests.helpers.waiting import wait_for

EXAMPLE = Path(__file__).parents[2] / "config.example.yaml"


async def test_demo_scene_gives_cat_and_moped_but_no_cup(tmp_path: Path) -> None:
    demo = load_config(EXAMPLE).cameras[0].model_dump(mode="json")
    demo["check_period"] = 0.05
    config = service_config(tmp_path, [demo])
    del config["model"]  # the model shipped inside the package, as for a new user
    async with running_service(tmp_path, config) as service:
        state = service.states["demo"]
        await wait_for(lambda: state.frames_checked >= 32, 60, "one loop of the demo scene")
        labels = {e["roi"]: e["labels"][0] for e in service.store.query(EventQuery()).events}
    assert labels.get("porch") in {"Egyptian cat", "tabby", "tiger cat"}
    assert labels.get("driveway") in {"moped", "motor scooter"}
    assert service.model.classifier.folder.parent.name == "models"

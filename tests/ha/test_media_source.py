"""Browsing and resolving the history in the media browser, down to the JPEG."""

from __future__ import annotations

from datetime import date, timedelta
from http import HTTPStatus

import pytest
from homeassistant.components import media_source
from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.media_player import BrowseError
from homeassistant.components.media_source import Unresolvable
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from clevercam_mqtt.store import EventQuery
from custom_components.clevercam.media_source import MediaId
from tests.helpers.camera import LocalCamera
from tests.helpers.restartable import RestartableService
from tests.helpers.scenes import CAT_LABELS, scene_jpeg
from tests.helpers.waiting import wait_for

ROOT = "media-source://clevercam"


@pytest.fixture
async def with_an_event(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    clevercam: RestartableService,
    camera: LocalCamera,
) -> MockConfigEntry:
    assert await async_setup_component(hass, "media_source", {})
    camera.set_image(scene_jpeg("cat"))
    await wait_for(lambda: clevercam.running.store.stats()["count"] >= 1, 30, "a cat event")
    return init_integration


async def test_browse_camera_day_event_and_resolve(
    hass: HomeAssistant,
    with_an_event: MockConfigEntry,
    clevercam: RestartableService,
    hass_client: ClientSessionGenerator,
) -> None:
    instance = clevercam.running.instance_id
    root = await media_source.async_browse_media(hass, ROOT)
    assert [child.title for child in root.children] == ["Driveway"]

    cameras = await media_source.async_browse_media(hass, root.children[0].media_content_id)
    today = date.today().isoformat()
    assert len(cameras.children) == 1
    assert cameras.children[0].title.startswith(today)

    day = await media_source.async_browse_media(hass, cameras.children[0].media_content_id)
    assert day.children
    item = day.children[0]
    assert item.can_play and not item.can_expand
    assert any(label in item.title for label in CAT_LABELS)
    event_id = item.media_content_id.rsplit("/", 1)[1]
    assert item.media_content_id == f"{ROOT}/{instance}/driveway/{today}/{event_id}"

    resolved = await media_source.async_resolve_media(hass, item.media_content_id, None)
    assert resolved.mime_type == "image/jpeg"
    assert resolved.url == f"/api/clevercam/{instance}/events/{event_id}/image"

    client = await hass_client()
    for url in (resolved.url, item.thumbnail):
        response = await client.get(url)
        assert response.status == HTTPStatus.OK
        assert (await response.read()).startswith(b"\xff\xd8")
    missing = await client.get(f"/api/clevercam/{instance}/events/20000101-000000-0-abc/image")
    assert missing.status == HTTPStatus.NOT_FOUND
    unknown = await client.get(f"/api/clevercam/other/events/{event_id}/image")
    assert unknown.status == HTTPStatus.NOT_FOUND


async def test_event_images_need_auth_or_a_signed_path(
    hass: HomeAssistant,
    with_an_event: MockConfigEntry,
    clevercam: RestartableService,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """The browser gets the path signed by the media source's resolve; nobody else gets in."""
    client = await hass_client_no_auth()
    event_id = clevercam.running.store.query(EventQuery()).events[0]["id"]
    path = f"/api/clevercam/{clevercam.running.instance_id}/events/{event_id}/image"
    response = await client.get(path)
    assert response.status == HTTPStatus.UNAUTHORIZED
    signed = async_sign_path(hass, path, timedelta(minutes=1))
    response = await client.get(signed)
    assert response.status == HTTPStatus.OK


async def test_bad_media_ids(hass: HomeAssistant, with_an_event: MockConfigEntry) -> None:
    instance = with_an_event.unique_id
    with pytest.raises(BrowseError):
        await media_source.async_browse_media(hass, f"{ROOT}/{instance}/Bad-Camera")
    with pytest.raises(BrowseError):
        await media_source.async_browse_media(hass, f"{ROOT}/unknown")
    with pytest.raises(Unresolvable):
        await media_source.async_resolve_media(hass, f"{ROOT}/{instance}/driveway", None)
    with pytest.raises(Unresolvable):
        await media_source.async_resolve_media(hass, f"{ROOT}/{instance}/x/2026-13-01/y", None)


@pytest.mark.parametrize(
    "text",
    ["abc", "abc/driveway", "abc/driveway/2026-11-25", "abc/driveway/2026-11-25/20261125-1-a1"],
)
def test_media_ids_print_what_they_parse(text: str) -> None:
    assert str(MediaId.parse(text)) == text


@pytest.mark.parametrize(
    "text", ["", "a/b/c/d/e", "abc/UPPER", "abc/x/25-11-2026", "abc/x/2026-11-25/../"]
)
def test_malformed_media_ids_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        MediaId.parse(text)

"""The client's one error wrapper, against the real service and real sockets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from custom_components.clevercam.api import CleverCamAuthError, CleverCamClient, CleverCamError
from tests.helpers.camera import LocalCamera
from tests.helpers.net import free_port
from tests.helpers.restartable import RestartableService

from .conftest import service_with


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def test_service_errors_carry_the_status_and_the_services_message(
    session: aiohttp.ClientSession, clevercam: RestartableService
) -> None:
    client = CleverCamClient(session, "127.0.0.1", clevercam.port)
    with pytest.raises(CleverCamError, match="no such event") as missing:
        await client.event_image("20000101-000000-000000-abcdef")
    assert missing.value.status == 404
    with pytest.raises(CleverCamError, match="no such ROI") as roi:
        await client.set_roi("driveway", "porch", enabled=True)
    assert roi.value.status == 404
    with pytest.raises(CleverCamError, match="unknown field") as bad:
        await client.set_roi("driveway", "gate", colour="red")
    assert bad.value.status == 400


async def test_not_clevercam_and_not_listening(
    session: aiohttp.ClientSession, camera: LocalCamera
) -> None:
    with pytest.raises(CleverCamError) as not_ours:
        await CleverCamClient(session, "127.0.0.1", camera.port).health()
    assert not_ours.value.status == 404
    with pytest.raises(CleverCamError, match="push refused: HTTP 404"):
        await CleverCamClient(session, "127.0.0.1", camera.port).listen(lambda _: None)
    closed = CleverCamClient(session, "127.0.0.1", free_port())
    with pytest.raises(CleverCamError, match="cannot connect"):
        await closed.cameras()
    with pytest.raises(CleverCamError, match="cannot connect"):
        await closed.listen(lambda _: None)


async def test_a_server_that_never_answers_times_out(session: aiohttp.ClientSession) -> None:
    """A socket that accepts connections (the kernel does) but never replies."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        client = CleverCamClient(session, "127.0.0.1", port, timeout=0.3)
        with pytest.raises(CleverCamError, match=r"no answer within 0\.3 s"):
            await client.system()
        with pytest.raises(CleverCamError, match="cannot connect"):
            await client.listen(lambda _: None)


async def test_push_hello_then_messages(
    session: aiohttp.ClientSession, clevercam: RestartableService
) -> None:
    client = CleverCamClient(session, "127.0.0.1", clevercam.port)
    messages: list[dict] = []
    hello = asyncio.Event()

    async def on_message(message: dict) -> None:
        messages.append(message)
        hello.set()

    listening = asyncio.create_task(client.listen(on_message))
    await asyncio.wait_for(hello.wait(), 10)
    assert messages[0]["type"] == "hello"
    assert messages[0]["instance_id"] == clevercam.running.instance_id
    assert [c["id"] for c in messages[0]["cameras"]] == ["driveway"]
    await clevercam.stop()  # the service closes the socket: listen() returns
    await asyncio.wait_for(listening, 10)


async def test_login_errors(session: aiohttp.ClientSession, tmp_path, camera: LocalCamera) -> None:
    service = service_with(tmp_path, camera, web={"token": "t0k3n-abc"})
    await service.start()
    try:
        wrong = CleverCamClient(session, "127.0.0.1", service.port, token="wrong")
        with pytest.raises(CleverCamAuthError):
            await wrong.cameras()
        with pytest.raises(CleverCamAuthError):
            await wrong.listen(lambda _: None)
        # A login against a service that has only a token: a clear error, not 'invalid auth'.
        login = CleverCamClient(session, "127.0.0.1", service.port, username="a", password="b")
        with pytest.raises(CleverCamError, match="login") as error:
            await login.cameras()
        assert not isinstance(error.value, CleverCamAuthError)
    finally:
        await service.stop()

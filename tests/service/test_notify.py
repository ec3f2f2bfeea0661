"""Email notifications against real aiosmtpd servers, the real camera, model and service."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from clevercam_mqtt.config import ConfigError, parse_config
from clevercam_mqtt.events import Event, SequenceEnded
from clevercam_mqtt.notify.config import EmailConfig
from clevercam_mqtt.notify.email import Attachment, MailError, build_message, send_message
from clevercam_mqtt.notify.sink import NotifySink
from clevercam_mqtt.service import Service
from clevercam_mqtt.store import EventQuery
from tests.helpers.camera import LocalCamera
from tests.helpers.net import free_port
from tests.helpers.scenes import CAT_LABELS, driveway, jpeg, paste, photo, scene_jpeg
from tests.helpers.service import base_url, camera_config, running_service, service_config
from tests.helpers.smtp import PASSWORD, USER, BlackHole, MailServer, Received
from tests.helpers.waiting import wait_for


@pytest.fixture
def mail_server(tmp_path: Path) -> Iterator[MailServer]:
    """A real SMTP server (aiosmtpd, no TLS, no login) on loopback."""
    server = MailServer(tmp_path)
    server.start()
    yield server
    server.stop()


def notify(email: dict[str, Any], **options: Any) -> dict[str, Any]:
    return {"notify": {"email": email, **options}}


def mails_settled(service: Service) -> bool:
    """Nothing decided, queued or being sent any more."""
    status = service.parts_status()["notify"]
    return status["pending"] == 0 and status["queued"] == 0 and not status["sending"]


def jpeg_of(mail: Received) -> bytes:
    parts = [part for part in mail.message.iter_attachments()]
    assert len(parts) == 1, "expected exactly one attachment"
    assert parts[0].get_content_type() == "image/jpeg"
    data = parts[0].get_content()
    assert isinstance(data, bytes)
    return data


async def frames(service: Service, count: int = 3) -> None:
    state = service.states["driveway"]
    target = state.frames_checked + count
    await wait_for(lambda: state.frames_checked >= target, 20, f"{count} more frames")


async def post(service: Service, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(base_url(service) + path, json=body) as response,
    ):
        return response.status, await response.json()


async def get_json(service: Service, path: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(base_url(service) + path) as r:
        assert r.status == 200
        return await r.json()


# -- configuration ------------------------------------------------------------------------

CAMERAS = [{"id": "driveway", "url": "http://127.0.0.1:9/", "rois": [
    {"name": "Front gate", "box": [0, 0, 50, 50]}]}]  # fmt: skip
EMAIL = {"host": "127.0.0.1", "from": "a@example.com", "to": "b@example.com"}


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"email": {**EMAIL, "subject": "{camera}: {animal}"}},
         "notify.email.subject: unknown placeholder {animal}"),
        ({"email": {**EMAIL, "body": "{camera.__class__}"}},
         "notify.email.body: unknown placeholder {camera.__class__}"),
        ({"email": {**EMAIL, "body": "{labels:%H}"}}, "notify.email.body: cannot be rendered"),
        ({"email": {**EMAIL, "body": "a { b"}}, "notify.email.body: expected '}' before end"),
        ({"email": {**EMAIL, "subject": "a\nb"}}, "notify.email.subject: must be on one line"),
        ({"email": {**EMAIL, "security": "ssl"}}, "notify.email.security: Input should be"),
        ({"email": {**EMAIL, "to": ["me"]}}, "notify.email.to: 'me' is not an email address"),
        ({"email": {**EMAIL, "username": "me"}},
         "notify.email: username and password must be set together"),
        ({"email": {**EMAIL, "port": 0}}, "notify.email.port: Input should be greater"),
        ({"email": {**EMAIL, "server": "x"}}, "notify.email.server: Extra inputs"),
        ({"email": EMAIL, "min_interval": -1}, "notify.min_interval: Input should be greater"),
        ({"email": EMAIL, "cameras": {"garage": {}}},
         "notify.cameras.garage: no camera has the id 'garage'"),
        ({"email": EMAIL, "cameras": {"driveway": {"rois": ["front_gate", "pool"]}}},
         "notify.cameras.driveway.rois[1]: camera 'driveway' has no ROI 'pool'"),
        ({"email": EMAIL, "cameras": {"driveway": {"labels": []}}},
         "notify.cameras.driveway.labels: List should have at least 1 item"),
        ({}, "notify.email: Field required"),
    ],
)  # fmt: skip
def test_bad_notify_config_names_its_key(section: dict[str, Any], expected: str):
    with pytest.raises(ConfigError) as error:
        parse_config({"cameras": CAMERAS, "notify": section})
    assert expected in str(error.value)


def test_good_notify_config_has_defaults():
    config = parse_config({"cameras": CAMERAS, "notify": {
        "email": {**EMAIL, "subject": "{label} {score:.2f} at {time:%H:%M} {{literal}}"},
        "cameras": ["driveway"]}})  # fmt: skip
    assert config.notify is not None
    email = config.notify.email
    assert email.server_port == 587 and email.security == "starttls"
    assert email.to == ["b@example.com"]
    assert config.notify.rule("driveway") is not None
    assert config.notify.rule("other") is None


# -- decisions on the sink ----------------------------------------------------------------


def _event(camera: str, sequence: str, labels: dict[str, float], when: datetime,
           roi: str = "gate") -> Event:  # fmt: skip
    return Event(
        id=f"{sequence}-{len(labels)}-{when.timestamp()}", camera=camera, roi=roi,
        roi_name=roi.title(), labels=list(labels), scores=list(labels.values()), motion=0.1,
        timestamp=when, sequence_id=sequence, image=b"jpeg of " + sequence.encode(),
    )  # fmt: skip


async def test_rules_schedule_and_interval_decide_which_sequences_mail(tmp_path: Path):
    noon = datetime.now().astimezone().replace(hour=12, minute=0)
    night = noon.replace(hour=3)
    schedule = {"from_hour": 8, "to_hour": 20}
    rois = [{"name": "gate", "box": [0, 0, 50, 50]}, {"name": "door", "box": [50, 0, 100, 50]}]
    rules = {
        "driveway": {"rois": ["Gate"], "labels": ["tabby", "Egyptian cat"], "min_interval": 0},
        "garden": None,
    }
    config = parse_config({
        "storage": {"path": str(tmp_path)},
        "cameras": [
            {"id": "driveway", "url": "http://127.0.0.1:9/", "schedule": schedule, "rois": rois},
            {"id": "garden", "url": "http://127.0.0.1:9/"},
            {"id": "street", "url": "http://127.0.0.1:9/"},
        ],
        "notify": {"email": {**EMAIL, "port": 9}, "max_wait": 600, "min_interval": 3600,
                   "cameras": rules},
    })  # fmt: skip
    assert config.notify is not None
    service = Service(config)
    sink = NotifySink(service, config.notify)
    await sink.start()
    try:
        publish = service.bus.publish
        await publish(_event("street", "s1", {"tabby": 0.9}, noon))  # camera not listed
        await publish(_event("driveway", "d0", {"tabby": 0.9}, noon, roi="door"))  # ROI
        await publish(_event("driveway", "d1", {"moped": 0.9}, noon))  # label
        await publish(_event("driveway", "d2", {"tabby": 0.9}, night))  # out of schedule
        await publish(_event("driveway", "d2", {"tabby": 0.95}, noon))  # same sequence
        assert sink.snapshot()["pending"] == 0

        await publish(_event("driveway", "d3", {"moped": 0.8, "tabby": 0.3}, noon))
        await publish(_event("driveway", "d3", {"Egyptian cat": 0.7}, noon))
        await publish(_event("driveway", "d3", {"tabby": 0.5}, noon))
        pending = sink._pending["d3"]
        assert pending.events == 3 and pending.score == 0.7
        assert pending.best.labels == ["Egyptian cat"]

        await publish(_event("garden", "g1", {"moped": 0.4}, noon))
        await publish(SequenceEnded("garden", "g1", ("whole",), noon))
        await publish(_event("garden", "g2", {"moped": 0.9}, noon))  # within min_interval
        await publish(_event("driveway", "d4", {"tabby": 0.6}, noon))  # interval 0 here
        status = sink.snapshot()
        assert status["suppressed"] == 1
        assert set(sink._pending) == {"d3", "d4"}
    finally:
        await sink.stop()


async def test_full_queue_drops_new_mails_and_counts_them(tmp_path: Path):
    noon = datetime.now().astimezone().replace(hour=12, minute=0)
    cameras = [{"id": name, "url": "http://127.0.0.1:9/"} for name in ("a", "b", "c")]
    email = {**EMAIL, "port": free_port(), "security": "none"}  # nothing listens there
    options = {"max_wait": 0, "queue_size": 1, "retries": 3, "retry_delay": 600}
    config = parse_config({"storage": {"path": str(tmp_path)}, "cameras": cameras,
                           "notify": {"email": email, **options}})  # fmt: skip
    assert config.notify is not None
    service = Service(config)
    sink = NotifySink(service, config.notify)
    await sink.start()
    try:
        await service.bus.publish(_event("a", "a1", {"tabby": 0.9}, noon))
        await wait_for(lambda: sink.snapshot()["ok"] is False, 20, "the first attempt to fail")
        assert "connection refused" in sink.snapshot()["error"]
        await service.bus.publish(_event("b", "b1", {"tabby": 0.9}, noon))  # queued
        await service.bus.publish(_event("c", "c1", {"tabby": 0.9}, noon))  # no room
        status = sink.snapshot()
        assert status["queued"] == 1 and status["dropped"] == 1 and status["failed"] == 0
        assert service.parts_status() == {"notify": status}
    finally:
        await sink.stop()
    assert "notify" not in service.parts_status()


# -- sending ------------------------------------------------------------------------------


def test_security_modes_and_certificate_errors(tmp_path: Path):
    image = Attachment("driveway.jpg", scene_jpeg("cat"))
    for security in ("starttls", "tls"):
        server = MailServer(tmp_path, security, login=True)  # type: ignore[arg-type]
        server.start()
        try:
            config = EmailConfig.model_validate(server.config(username=USER, password=PASSWORD))
            send_message(config, build_message(config, "Driveway: tabby", "A cat.", image))
            assert len(server.messages) == 1
            mail = server.messages[0]
            assert mail.rcpt_tos == ["owner@example.com", "partner@example.com"]
            assert mail.mail_from == "clevercam@example.com"
            assert mail.message["Subject"] == "Driveway: tabby"
            assert jpeg_of(mail) == image.data

            untrusted = EmailConfig.model_validate(server.config(ca_file=None))
            with pytest.raises(MailError, match="TLS certificate not trusted") as error:
                send_message(untrusted, build_message(untrusted, "x", "y"))
            assert error.value.permanent
        finally:
            server.stop()

    plain = MailServer(tmp_path, "none")
    plain.start()
    try:
        wants_tls = EmailConfig.model_validate(plain.config(security="starttls"))
        with pytest.raises(MailError, match="does not offer STARTTLS"):
            send_message(wants_tls, build_message(wants_tls, "x", "y"))
    finally:
        plain.stop()
    closed = EmailConfig.model_validate(plain.config())
    with pytest.raises(MailError, match="connection refused") as error:
        send_message(closed, build_message(closed, "x", "y"))
    assert not error.value.permanent


async def test_cat_event_sends_one_mail_with_the_image(
    tmp_path: Path, camera: LocalCamera, mail_server: MailServer
):
    cam = camera_config(camera.url(), sequence_gap=1)
    config = service_config(tmp_path, [cam], **notify(mail_server.config(), max_wait=30))
    async with running_service(tmp_path, config) as service:
        await frames(service)
        camera.set_image(scene_jpeg("cat"))
        await wait_for(lambda: mail_server.messages, 20, "a mail")
        await wait_for(lambda: mails_settled(service), 20, "mails to settle")
        camera.set_image(scene_jpeg("empty"))
        await frames(service, 5)

        assert len(mail_server.messages) == 1
        events = service.store.query(EventQuery()).events
        assert len(events) == 1
        event = events[0]
        mail = mail_server.messages[0]
        assert event["labels"][0] in CAT_LABELS
        assert mail.message["Subject"] == f"Driveway: {', '.join(event['labels'])} in gate"
        assert mail.message["To"] == "owner@example.com, partner@example.com"
        body = mail.message.get_body(("plain",))
        assert body is not None and "Driveway saw Egyptian cat" in body.get_content()
        image_path = service.store.file_path(event["id"], "image")
        assert image_path is not None
        assert jpeg_of(mail) == image_path.read_bytes()
        status = (await get_json(service, "/api/system"))["notify"]
        assert status["ok"] is True and status["sent"] == 1 and status["error"] is None
        assert set(status["last_sent_by_camera"]) == {"driveway"}


async def test_five_events_of_a_sequence_give_one_mail_with_the_best_image(
    tmp_path: Path, camera: LocalCamera, mail_server: MailServer
):
    weaker = jpeg(paste(driveway(), photo("cat"), fill=0.7))  # Egyptian cat 0.38
    stronger = scene_jpeg("cat")  # Egyptian cat 0.83
    cam = camera_config(camera.url(), sequence_gap=3)
    email = mail_server.config(body="{events} events, best {label} {score}")
    config = service_config(tmp_path, [cam], **notify(email, max_wait=60))
    async with running_service(tmp_path, config) as service:
        await frames(service)
        for count, image in enumerate([weaker, stronger, weaker, stronger, weaker], start=1):
            camera.set_image(image)
            await wait_for(lambda n=count: service.store.stats()["count"] >= n, 20, "an event")
        await wait_for(lambda: mail_server.messages, 20, "the mail")
        await wait_for(lambda: mails_settled(service), 20, "mails to settle")

        events = service.store.query(EventQuery()).events
        assert len(events) == 5 and len({e["sequence_id"] for e in events}) == 1
        assert len(mail_server.messages) == 1
        mail = mail_server.messages[0]
        assert jpeg_of(mail) == stronger
        body = mail.message.get_body(("plain",))
        assert body is not None
        assert body.get_content().strip() == "5 events, best Egyptian cat 83%"


async def test_minimum_interval_holds_across_sequences(
    tmp_path: Path, camera: LocalCamera, mail_server: MailServer
):
    cam = camera_config(camera.url(), sequence_gap=1)
    options = {"max_wait": 30, "min_interval": 3600}
    config = service_config(tmp_path, [cam], **notify(mail_server.config(), **options))
    async with running_service(tmp_path, config) as service:
        await frames(service)
        camera.set_image(scene_jpeg("cat"))
        await wait_for(lambda: mail_server.messages, 20, "the first mail")
        state = service.states["driveway"]
        moving = state.frames_with_motion
        camera.set_image(scene_jpeg("empty"))
        await wait_for(lambda: state.frames_with_motion > moving, 20, "the cat to leave")
        camera.set_image(scene_jpeg("cat"))
        status = service.parts_status
        await wait_for(lambda: status()["notify"]["suppressed"] == 1, 20, "a suppressed mail")
        await wait_for(lambda: mails_settled(service), 20, "mails to settle")

        events = service.store.query(EventQuery()).events
        assert len({e["sequence_id"] for e in events}) == 2
        assert len(mail_server.messages) == 1


async def test_refused_login_is_reported_clearly(tmp_path: Path):
    server = MailServer(tmp_path, "starttls", login=True)
    server.start()
    try:
        email = server.config(username=USER, password="not-the-password")
        config = service_config(tmp_path, [], **notify(email))
        async with running_service(tmp_path, config) as service:
            status, answer = await post(service, "/api/notify/test")
            assert status == 502 and answer["ok"] is False
            expected = f"127.0.0.1:{server.port} refused the login: 535 5.7.8"
            assert answer["error"].startswith(expected)
            assert "not-the-password" not in answer["error"]
            system = (await get_json(service, "/api/system"))["notify"]
            assert system["ok"] is False and system["error"] == answer["error"]
            assert not server.messages
    finally:
        server.stop()


async def test_dead_server_does_not_delay_event_storage(tmp_path: Path, camera: LocalCamera):
    hung = BlackHole()
    try:
        email = {"host": "127.0.0.1", "port": hung.port, "security": "none",
                 "from": "a@example.com", "to": "b@example.com", "timeout": 60}  # fmt: skip
        options = {"max_wait": 0, "retries": 1, "retry_delay": 0.1}
        config = service_config(tmp_path, [camera_config(camera.url())], **notify(email, **options))
        async with running_service(tmp_path, config) as service:
            status = service.parts_status
            await frames(service)
            camera.set_image(scene_jpeg("cat"))
            await wait_for(lambda: service.store.stats()["count"] == 1, 20, "the first event")
            await wait_for(lambda: status()["notify"]["sending"], 20, "the mail to hang")

            # While the mail hangs, frames are checked and a new event is stored.
            await frames(service, 3)
            camera.set_image(jpeg(paste(driveway(), photo("cat"), fill=0.7)))
            await wait_for(lambda: service.store.stats()["count"] == 2, 20, "a second event")
            assert status()["notify"]["sending"] is True and status()["notify"]["sent"] == 0

            hung.close()  # resets the hung connection; the retry finds the port closed
            await wait_for(lambda: status()["notify"]["failed"] == 1, 20, "the mail to fail")
            system = (await get_json(service, "/api/system"))["notify"]
            assert system["ok"] is False
            assert system["error"] == f"127.0.0.1:{hung.port}: connection refused"
            assert service.states["driveway"].ok is True
    finally:
        hung.close()


async def test_test_mail_api(tmp_path: Path, camera: LocalCamera):
    server = MailServer(tmp_path, "starttls", login=True)
    server.start()
    try:
        email = server.config(username=USER, password=PASSWORD)
        config = service_config(tmp_path, [camera_config(camera.url())], **notify(email))
        async with running_service(tmp_path, config) as service:
            await frames(service, 1)
            status, answer = await post(service, "/api/notify/test", {"camera": "driveway"})
            assert status == 200, answer
            assert (
                answer["ok"] is True and answer["subject"] == "[test] Driveway: test mail in test"
            )
            assert answer["to"] == ["owner@example.com", "partner@example.com"]
            assert len(server.messages) == 1
            assert jpeg_of(server.messages[0]) == scene_jpeg("empty")

            assert (await post(service, "/api/notify/test", {"camera": "nope"}))[0] == 404
            assert (await post(service, "/api/notify/test", [1]))[0] == 400
            status, answer = await post(service, "/api/notify/test", {"cam": "driveway"})
            assert status == 400 and answer["error"] == "unknown field cam"
            assert (await post(service, "/api/notify/test"))[0] == 200
            assert len(server.messages) == 2
            system = (await get_json(service, "/api/system"))["notify"]
            assert system["ok"] is True and system["sent"] == 0  # test mails are not counted
    finally:
        server.stop()


async def test_test_mail_api_without_notify_config(tmp_path: Path):
    async with running_service(tmp_path, service_config(tmp_path, [])) as service:
        status, answer = await post(service, "/api/notify/test")
        assert status == 409 and answer["error"].startswith("notify: email notifications")
        assert "notify" not in await get_json(service, "/api/system")

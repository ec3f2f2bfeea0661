"""An RTSP camera for tests and benchmarks: GStreamer's RTSP server from Debian's packages.

Run by Debian's own /usr/bin/python3 (the gi bindings live there, not in a venv), never
imported by the project. It serves either a scene that the test changes (the JPEG file
given by --image, re-read whenever it is replaced, encoded live at --fps with a keyframe
every --keyint frames) or a pre-encoded clip (--clip, a Matroska file, for benchmarks).
`rtph26xpay config-interval=0`: the encoders and the SDP carry the parameter sets, and
repeating them per slice makes FFmpeg decode half-green frames.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

ENCODERS = {
    "h264": "x264enc tune=zerolatency speed-preset=ultrafast key-int-max={keyint} "
    "bitrate={kbps} ! rtph264pay name=pay0 pt=96 config-interval=0",
    "h265": "x265enc tune=zerolatency speed-preset=ultrafast key-int-max={keyint} "
    'bitrate={kbps} option-string="repeat-headers=1" '
    "! rtph265pay name=pay0 pt=96 config-interval=0",
}
PARSERS = {"h264": "h264parse ! rtph264pay", "h265": "h265parse ! rtph265pay"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/stream")
    parser.add_argument("--image", help="JPEG file showing the scene (replace it to change)")
    parser.add_argument("--clip", help="Matroska file to stream as it is (benchmarks)")
    parser.add_argument("--codec", choices=sorted(ENCODERS), default="h264")
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--keyint", type=int, default=10)
    parser.add_argument("--kbps", type=int, default=2000)
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--height", type=int, default=848)
    parser.add_argument("--user")
    parser.add_argument("--password")
    return parser.parse_args()


class Scene:
    """The JPEG bytes of --image, re-read when the file was replaced."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.key: tuple[int, int, int] | None = None
        self.data = b""

    def current(self) -> bytes:
        stat = os.stat(self.path)
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if key != self.key:
            with open(self.path, "rb") as file:
                self.data = file.read()
            self.key = key
        return self.data


def live_launch(args: argparse.Namespace) -> str:
    encoder = ENCODERS[args.codec].format(keyint=args.keyint, kbps=args.kbps)
    return (
        f"( appsrc name=scene is-live=true do-timestamp=true format=time "
        f"caps=image/jpeg,framerate={args.fps}/1 ! jpegdec ! videoconvert ! videoscale "
        f"! video/x-raw,format=I420,width={args.width},height={args.height} ! {encoder} )"
    )


def clip_launch(args: argparse.Namespace) -> str:
    return (
        f'( filesrc location="{args.clip}" ! matroskademux ! {PARSERS[args.codec]} '
        "name=pay0 pt=96 config-interval=0 )"
    )


def feed(media: GstRtspServer.RTSPMedia, scene: Scene, fps: int) -> None:
    """Push the scene's JPEG at the frame rate while a client plays this media."""
    source = media.get_element().get_child_by_name("scene")

    def push() -> bool:
        source.emit("push-buffer", Gst.Buffer.new_wrapped(scene.current()))
        return True

    timer = GLib.timeout_add(max(1, 1000 // fps), push)
    media.connect("unprepared", lambda _media: GLib.source_remove(timer))


def protect(server: GstRtspServer.RTSPServer, factory: GstRtspServer.RTSPMediaFactory,
            user: str, password: str) -> None:  # fmt: skip
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", user)
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    server.set_auth(auth)
    permissions = GstRtspServer.RTSPPermissions()
    permissions.add_role(user)
    permissions.add_permission_for_role(user, "media.factory.access", True)
    permissions.add_permission_for_role(user, "media.factory.construct", True)
    factory.set_permissions(permissions)


def main() -> int:
    args = parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    if args.clip:
        factory.set_launch(clip_launch(args))
        factory.set_shared(True)
    else:
        scene = Scene(args.image)
        factory.set_launch(live_launch(args))
        factory.connect("media-configure", lambda _f, media: feed(media, scene, args.fps))
    if args.user:
        protect(server, factory, args.user, args.password or "")
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on port {args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    print("READY", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

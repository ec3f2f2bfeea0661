"""Command line: run the service, check a config or a camera, test the classifier, models."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from pathlib import Path

from . import __version__
from .config import ConfigError, load_config, resolve_model_path

_LOGGER = logging.getLogger("clevercam")


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


async def serve(config_path: Path) -> None:
    """Run until SIGINT or SIGTERM, then stop every part cleanly."""
    from .app import build_service
    from .heap import limit_heap_growth

    limit_heap_growth()
    config = load_config(config_path)
    service = build_service(config, config_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await service.start()
    _LOGGER.info("clevercam %s running with %d camera(s)", __version__, len(config.cameras))
    try:
        await stop.wait()
    finally:
        _LOGGER.info("Stopping")
        await service.stop()


def check_config(path: Path) -> int:
    """Errors exit 1; a model not fetched yet or an unreachable camera are warnings."""
    try:
        config = load_config(path)
    except ConfigError as error:
        print(f"{path}: invalid configuration\n{error}", file=sys.stderr)
        return 1
    from .classifier import check_model_folder

    warnings = []
    model_warning = check_model_folder(resolve_model_path(config.model.path, path.resolve().parent))
    if model_warning:
        warnings.append(f"model.path: {model_warning}")
    for index, camera in enumerate(config.cameras):
        problem = asyncio.run(_probe_camera(camera))
        if problem:
            warnings.append(f"cameras[{index}] ({camera.id}): {problem}")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{path}: OK ({len(config.cameras)} camera(s))")
    return 0


async def _probe_camera(camera: object) -> str | None:
    from .cameras import CameraError, open_camera
    from .config import CameraConfig

    assert isinstance(camera, CameraConfig)
    source = open_camera(camera)
    try:
        await source.fetch()
    except CameraError as error:
        return str(error)
    finally:
        await source.close()
    return None


def check_camera(config_path: Path, camera_id: str, save: Path | None) -> int:
    from .cameras import CameraError, open_camera

    try:
        config = load_config(config_path)
        camera = config.camera(camera_id)
    except ConfigError as error:
        print(f"invalid configuration\n{error}", file=sys.stderr)
        return 1
    except KeyError:
        print(f"no camera {camera_id!r}; known: {[c.id for c in config.cameras]}", file=sys.stderr)
        return 1

    async def probe() -> int:
        source = open_camera(camera)
        try:
            started = time.monotonic()
            frame = await source.fetch()
            latency = (time.monotonic() - started) * 1000
            if source.keeps_connection:
                frame = await source.fetch()  # a second keyframe tells the keyframe interval
            width, height = frame.size
            print(f"{camera_id}: {width}x{height}, {latency:.0f} ms")
            for key, value in source.describe().items():
                print(f"  {key}: {value}")
            target = save or Path(f"{camera_id}.jpg")
            target.write_bytes(frame.jpeg())
            print(f"  frame saved to {target}")
            return 0
        except CameraError as error:
            print(f"{camera_id}: {error}", file=sys.stderr)
            return 2
        finally:
            await source.close()

    return asyncio.run(probe())


def test_classifier(image: Path, model: Path | None, box: list[float] | None, top_k: int) -> int:
    from PIL import Image

    from .classifier import Classifier, ModelError
    from .config import BUNDLED_MODELS, DEFAULT_MODEL

    try:
        classifier = Classifier(model or BUNDLED_MODELS / DEFAULT_MODEL)
    except ModelError as error:
        print(f"model: {error}", file=sys.stderr)
        return 1
    try:
        picture = Image.open(image).convert("RGB")
    except OSError as error:
        print(f"{image}: cannot read the image ({error})", file=sys.stderr)
        return 1
    pixel_box = None
    if box:
        from .frame import box_to_pixels

        x0, y0, x1, y1 = box
        if not (0 <= x0 < x1 <= 100 and 0 <= y0 < y1 <= 100):
            print(
                "--box: expected x0 y0 x1 y1 in percent with x0 < x1 and y0 < y1", file=sys.stderr
            )
            return 1
        pixel_box = box_to_pixels((x0, y0, x1, y1), picture.width, picture.height)
    for prediction in classifier.classify_image(picture, pixel_box, top_k):
        print(f"{prediction.score:6.3f}  {prediction.label}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clevercam", description=__doc__)
    parser.add_argument("--config", type=Path, help="YAML configuration file")
    parser.add_argument("--debug", action="store_true", help="log debug messages")
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command")
    check = commands.add_parser("check-config", help="validate a configuration file")
    check.add_argument("file", type=Path)
    camera = commands.add_parser("check-camera", help="fetch one frame from a camera")
    camera.add_argument("camera_id")
    camera.add_argument("--save", type=Path, help="where to save the frame (default ID.jpg)")
    classify = commands.add_parser("test-classifier", help="classify an image")
    classify.add_argument("image", type=Path)
    classify.add_argument("--model", type=Path, help="model folder (default: the bundled one)")
    classify.add_argument("--box", type=float, nargs=4, metavar=("X0", "Y0", "X1", "Y1"))
    classify.add_argument("--top-k", type=int, default=5)
    models = commands.add_parser("models", help="list or fetch classifier models")
    models.add_argument("action", choices=["list", "fetch"])
    models.add_argument("name", nargs="?")
    models.add_argument("--models-dir", type=Path, default=Path("models"))
    models.add_argument("--base-url", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging("debug" if args.debug else "info")
    if args.command == "check-config":
        return check_config(args.file)
    if args.command == "test-classifier":
        return test_classifier(args.image, args.model, args.box, args.top_k)
    if args.command == "models":
        from . import model_catalog

        if args.action == "list":
            return model_catalog.main_list(args.models_dir)
        if not args.name:
            parser.error("models fetch needs a NAME (see: clevercam models list)")
        return model_catalog.main_fetch(args.name, args.models_dir, args.base_url)
    if args.config is None:
        parser.error("--config FILE is required")
    if args.command == "check-camera":
        return check_camera(args.config, args.camera_id, args.save)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"{args.config}: invalid configuration\n{error}", file=sys.stderr)
        return 1
    if not args.debug:
        logging.getLogger().setLevel(config.log_level.upper())
    from .classifier import ModelError
    from .store import StoreError

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args.config))
    except ModelError as error:
        print(f"model: {error}", file=sys.stderr)
        return 1
    except (OSError, StoreError) as error:  # a port in use, a history that cannot open
        print(f"cannot start: {error}", file=sys.stderr)
        return 1
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()

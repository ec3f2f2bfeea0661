"""The model downloader against a real HTTP server on 127.0.0.1 serving archives built here.

The archives hold the real pretrained MobileNet from ../shared, so a fetched folder is then
loaded by Classifier and must still see the cat in skimage's chelsea.
"""

from __future__ import annotations

import hashlib
import io
import re
import socket
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import skimage.data
from PIL import Image

from clevercam_mqtt import model_catalog
from clevercam_mqtt.classifier import Classifier
from clevercam_mqtt.config import BUNDLED_MODELS, DEFAULT_MODEL
from clevercam_mqtt.model_catalog import (
    CatalogEntry,
    ModelCatalogError,
    fetch_model,
    installed_models,
    list_models,
    main_fetch,
    main_list,
)
from tests.helpers.paths import MODEL_DIR, require

CAT_LABELS = {"Egyptian cat", "tabby", "tiger cat"}
REPO = Path(__file__).resolve().parents[2]


def shared_model_dir() -> Path:
    """The pretrained MobileNet V3 in ../shared; missing, the test fails."""
    return require(MODEL_DIR)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output free of access logs."""

    def send_header(self, keyword: str, value: str) -> None:
        """Files under a folder named *unsized* come without Content-Length (read to close)."""
        if keyword.lower() == "content-length" and "unsized" in self.path:
            return
        super().send_header(keyword, value)


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that stops reading (the size cap) is expected here, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ArchiveServer:
    """A real HTTP server on 127.0.0.1 for the whole module (one start, one stop)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._server = QuietServer(("127.0.0.1", 0), partial(QuietHandler, directory=root))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class Mirror:
    """One test's folder on the server; tests drop the archives they built into it."""

    def __init__(self, folder: Path, base_url: str) -> None:
        self.folder = folder
        self.base_url = base_url

    def publish(self, file_name: str, data: bytes) -> str:
        """Serve an archive; returns its sha256 for a test catalog entry."""
        (self.folder / file_name).write_bytes(data)
        return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchiveServer]:
    archive_server = ArchiveServer(tmp_path_factory.mktemp("served"))
    yield archive_server
    archive_server.close()


@pytest.fixture
def server(
    http_server: ArchiveServer, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Mirror:
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    prefix = re.sub(r"[^A-Za-z0-9_-]+", "_", request.node.name)
    folder = http_server.root / prefix
    folder.mkdir()
    return Mirror(folder, f"{http_server.url}/{prefix}")


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return (shared_model_dir() / "model.tflite").read_bytes()


@pytest.fixture(scope="module")
def label_text() -> str:
    return (shared_model_dir() / "labels.txt").read_text(encoding="utf-8")


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(zipfile.ZipInfo(name), data)
    return buffer.getvalue()


def make_tgz(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            bundle.addfile(info)
    return buffer.getvalue()


def use_catalog(monkeypatch: pytest.MonkeyPatch, *entries: CatalogEntry) -> None:
    monkeypatch.setattr(model_catalog, "CATALOG", entries)


def entry(
    name: str,
    file_name: str,
    sha256: str,
    *,
    archive: model_catalog.ArchiveKind,
    model_member: str = "test_model.tflite",
    labels_member: str | None = None,
) -> CatalogEntry:
    return CatalogEntry(
        name=name,
        url=f"https://storage.example.invalid/checkpoints/{file_name}",
        sha256=sha256,
        archive=archive,
        model_member=model_member,
        labels_member=labels_member,
        description=f"test archive {file_name}",
        sha256_source="computed by the test",
    )


def leftovers(models_dir: Path) -> list[str]:
    """Everything in models_dir: a failed fetch must leave no folder and no temporary file."""
    return sorted(path.name for path in models_dir.iterdir()) if models_dir.exists() else []


def classify_chelsea(folder: Path) -> str:
    image = Image.fromarray(skimage.data.chelsea())
    return Classifier(folder).classify_image(image, top_k=1)[0].label


# --- the real catalog --------------------------------------------------------------------


def test_catalog_lists_the_official_mobilenets() -> None:
    entries = list_models()
    names = [item.name for item in entries]
    assert names == [
        "mobilenet_v1_224_uint8",
        "mobilenet_v2_224_uint8",
        "mobilenet_v3_large_224_float",
        "mobilenet_v3_large_224_uint8",
        "mobilenet_v3_small_224_float",
        "mobilenet_v3_small_224_uint8",
    ]
    for item in entries:
        assert re.fullmatch(r"[0-9a-f]{64}", item.sha256), item.name
        assert item.url.startswith("https://storage.googleapis.com/"), item.name
        assert item.archive == ("zip" if item.url.endswith(".zip") else "tgz")
        assert item.model_member.endswith(".tflite")
        assert item.sha256_source
    assert len({item.sha256 for item in entries}) == len(entries)
    # V3 archives carry no labels: the bundled 1001 ImageNet labels are used instead.
    assert all(item.labels_member is None for item in entries if "_v3_" in item.name)


def test_bundled_labels_cover_the_1001_imagenet_outputs() -> None:
    lines = model_catalog.bundled_labels().read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1001
    assert lines[0] == "background"


def test_unknown_name_lists_the_known_ones(models_dir: Path) -> None:
    with pytest.raises(ModelCatalogError) as caught:
        fetch_model("mobilenet_v9", models_dir)
    message = str(caught.value)
    assert "unknown model 'mobilenet_v9'" in message
    assert "mobilenet_v3_large_224_uint8" in message
    assert leftovers(models_dir) == []


# --- downloads from the local server -----------------------------------------------------


def test_fetch_zip_with_labels_then_classify(
    server: Mirror,
    models_dir: Path,
    model_bytes: bytes,
    label_text: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = make_zip(
        {"test_model.tflite": model_bytes, "labels_test.txt": label_text.encode("utf-8")}
    )
    sha = server.publish("test_and_labels.zip", data)
    use_catalog(
        monkeypatch,
        entry(
            "zip_model", "test_and_labels.zip", sha, archive="zip", labels_member="labels_test.txt"
        ),
    )

    folder = fetch_model("zip_model", models_dir, base_url=server.base_url, timeout=10)

    assert folder == models_dir / "zip_model"
    assert sorted(path.name for path in folder.iterdir()) == ["labels.txt", "model.tflite"]
    assert (folder / "model.tflite").read_bytes() == model_bytes
    assert (folder / "labels.txt").read_text(encoding="utf-8") == label_text
    assert leftovers(models_dir) == ["zip_model"]
    assert classify_chelsea(folder) in CAT_LABELS


def test_fetch_tgz_without_labels_uses_the_bundled_ones(
    server: Mirror, models_dir: Path, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_tgz({"v3-test/v3-test.tflite": model_bytes, "v3-test/v3-test_info.txt": b"notes\n"})
    sha = server.publish("v3-test.tgz", data)
    use_catalog(
        monkeypatch,
        entry("tgz_model", "v3-test.tgz", sha, archive="tgz", model_member="v3-test.tflite"),
    )

    folder = fetch_model("tgz_model", models_dir, base_url=server.base_url + "/", timeout=10)

    assert sorted(path.name for path in folder.iterdir()) == ["labels.txt", "model.tflite"]
    assert (folder / "model.tflite").read_bytes() == model_bytes
    bundled = BUNDLED_MODELS / DEFAULT_MODEL / "labels.txt"
    assert (folder / "labels.txt").read_bytes() == bundled.read_bytes()
    assert classify_chelsea(folder) in CAT_LABELS


def test_refetch_replaces_the_folder_whole(
    server: Mirror, models_dir: Path, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = server.publish("m.tgz", make_tgz({"test_model.tflite": model_bytes}))
    use_catalog(monkeypatch, entry("model", "m.tgz", sha, archive="tgz"))
    stale = models_dir / "model"
    stale.mkdir(parents=True)
    (stale / "model.tflite").write_bytes(b"old")
    (stale / "stale.txt").write_text("from an older install", encoding="utf-8")

    folder = fetch_model("model", models_dir, base_url=server.base_url)

    assert sorted(path.name for path in folder.iterdir()) == ["labels.txt", "model.tflite"]
    assert (folder / "model.tflite").read_bytes() == model_bytes
    assert leftovers(models_dir) == ["model"]


def test_checksum_mismatch_is_refused_and_leaves_nothing(
    server: Mirror, models_dir: Path, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    actual = server.publish("m.tgz", make_tgz({"test_model.tflite": model_bytes}))
    expected = "0" * 64
    use_catalog(monkeypatch, entry("model", "m.tgz", expected, archive="tgz"))

    with pytest.raises(ModelCatalogError) as caught:
        fetch_model("model", models_dir, base_url=server.base_url)

    message = str(caught.value)
    assert "checksum mismatch" in message
    assert f"expected sha256 {expected}" in message
    assert f"got {actual}" in message
    assert leftovers(models_dir) == []


def test_checksum_mismatch_keeps_an_installed_model(
    server: Mirror, models_dir: Path, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.publish("m.tgz", make_tgz({"test_model.tflite": b"tampered"}))
    use_catalog(monkeypatch, entry("model", "m.tgz", "1" * 64, archive="tgz"))
    installed = models_dir / "model"
    installed.mkdir(parents=True)
    (installed / "model.tflite").write_bytes(model_bytes)

    with pytest.raises(ModelCatalogError, match="checksum mismatch"):
        fetch_model("model", models_dir, base_url=server.base_url)

    assert (installed / "model.tflite").read_bytes() == model_bytes
    assert leftovers(models_dir) == ["model"]


def test_http_error_names_the_status(
    server: Mirror, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_catalog(monkeypatch, entry("model", "absent.tgz", "2" * 64, archive="tgz"))
    with pytest.raises(ModelCatalogError, match=r"absent\.tgz failed: HTTP 404"):
        fetch_model("model", models_dir, base_url=server.base_url)
    assert leftovers(models_dir) == []


def test_unreachable_server_is_a_catalog_error(
    server: Mirror, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_catalog(monkeypatch, entry("model", "m.tgz", "3" * 64, archive="tgz"))
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ModelCatalogError, match=r"cannot download http://127\.0\.0\.1"):
        fetch_model("model", models_dir, base_url=f"http://127.0.0.1:{port}/models", timeout=5)
    assert leftovers(models_dir) == []


def test_oversized_download_is_refused_from_its_length(
    server: Mirror, models_dir: Path, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_tgz({"test_model.tflite": model_bytes})
    sha = server.publish("m.tgz", data)
    use_catalog(monkeypatch, entry("model", "m.tgz", sha, archive="tgz"))
    with pytest.raises(ModelCatalogError, match=rf"is {len(data)} bytes, more than the"):
        fetch_model("model", models_dir, base_url=server.base_url, max_bytes=len(data) // 2)
    assert leftovers(models_dir) == []


def test_unsized_download_is_cut_off_while_streaming(
    server: Mirror, models_dir: Path, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Content-Length to check up front: the cap stops the stream itself."""
    data = make_tgz({"test_model.tflite": model_bytes})
    sha = server.publish("m.tgz", data)
    use_catalog(monkeypatch, entry("model", "m.tgz", sha, archive="tgz"))
    with pytest.raises(ModelCatalogError, match=r"is larger than the \d+ allowed"):
        fetch_model("model", models_dir, base_url=server.base_url, max_bytes=len(data) // 2)
    assert leftovers(models_dir) == []
    # The same file within the cap installs: the missing length alone is no problem.
    assert fetch_model("model", models_dir, base_url=server.base_url).is_dir()


@pytest.mark.parametrize(
    ("kind", "members"),
    [
        ("zip", {"../evil.txt": b"x"}),
        ("zip", {"/tmp/evil.txt": b"x"}),
        ("tgz", {"models/../../evil.txt": b"x"}),
        ("tgz", {"/etc/evil.txt": b"x"}),
    ],
)
def test_member_outside_the_archive_is_refused(
    server: Mirror,
    models_dir: Path,
    model_bytes: bytes,
    monkeypatch: pytest.MonkeyPatch,
    kind: model_catalog.ArchiveKind,
    members: dict[str, bytes],
) -> None:
    contents = {"test_model.tflite": model_bytes, **members}
    data = make_zip(contents) if kind == "zip" else make_tgz(contents)
    sha = server.publish(f"evil.{kind}", data)
    use_catalog(monkeypatch, entry("model", f"evil.{kind}", sha, archive=kind))

    with pytest.raises(ModelCatalogError, match="points outside the archive"):
        fetch_model("model", models_dir, base_url=server.base_url)

    assert leftovers(models_dir) == []
    assert not (models_dir.parent / "evil.txt").exists()


def test_symlinked_model_member_is_refused(
    server: Mirror, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_tgz({}, links={"test_model.tflite": "secret.tflite"})
    sha = server.publish("link.tgz", data)
    use_catalog(monkeypatch, entry("model", "link.tgz", sha, archive="tgz"))
    with pytest.raises(ModelCatalogError, match="not a regular file"):
        fetch_model("model", models_dir, base_url=server.base_url)
    assert leftovers(models_dir) == []


def test_missing_member_is_named(
    server: Mirror, models_dir: Path, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = server.publish("m.zip", make_zip({"other.tflite": model_bytes}))
    use_catalog(monkeypatch, entry("model", "m.zip", sha, archive="zip"))
    with pytest.raises(ModelCatalogError, match=r"has no member named test_model\.tflite"):
        fetch_model("model", models_dir, base_url=server.base_url)
    assert leftovers(models_dir) == []


def test_member_that_is_not_tflite_is_refused(
    server: Mirror, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = server.publish("m.zip", make_zip({"test_model.tflite": b"<html>not a model</html>"}))
    use_catalog(monkeypatch, entry("model", "m.zip", sha, archive="zip"))
    with pytest.raises(ModelCatalogError, match="is not a TFLite model"):
        fetch_model("model", models_dir, base_url=server.base_url)
    assert leftovers(models_dir) == []


def test_corrupt_archive_is_a_catalog_error(
    server: Mirror, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = server.publish("m.tgz", b"this is not gzip at all")
    use_catalog(monkeypatch, entry("model", "m.tgz", sha, archive="tgz"))
    with pytest.raises(ModelCatalogError, match="cannot unpack the tgz archive"):
        fetch_model("model", models_dir, base_url=server.base_url)
    assert leftovers(models_dir) == []


# --- installed folders and the command-line entry points ---------------------------------


def test_installed_models_include_the_bundled_one(tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    (models_dir / "fetched").mkdir(parents=True)
    (models_dir / "fetched" / "model.tflite").write_bytes(b"x")
    (models_dir / "empty").mkdir()
    (models_dir / ".fetched-killed").mkdir()  # the staging folder of an interrupted fetch
    (models_dir / ".fetched-killed" / "model.tflite").write_bytes(b"x")
    found = installed_models([models_dir, tmp_path / "missing"])
    assert found[0] == models_dir / "fetched"
    assert BUNDLED_MODELS / DEFAULT_MODEL in found
    assert models_dir / "empty" not in found
    assert models_dir / ".fetched-killed" not in found
    assert installed_models([BUNDLED_MODELS]) == installed_models([])


def test_main_list_shows_catalog_and_installed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models_dir = tmp_path / "models"
    (models_dir / "mobilenet_v2_224_uint8").mkdir(parents=True)
    (models_dir / "mobilenet_v2_224_uint8" / "model.tflite").write_bytes(b"x")

    assert main_list(models_dir) == 0

    out = capsys.readouterr().out
    assert re.search(r"mobilenet_v2_224_uint8\s+installed", out)
    assert re.search(r"mobilenet_v3_small_224_uint8\s+-", out)
    assert f"{BUNDLED_MODELS / DEFAULT_MODEL} (bundled)" in out
    assert str(models_dir / "mobilenet_v2_224_uint8") in out


def test_main_fetch_reports_success_and_failure(
    server: Mirror,
    models_dir: Path,
    model_bytes: bytes,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sha = server.publish("m.tgz", make_tgz({"test_model.tflite": model_bytes}))
    use_catalog(
        monkeypatch,
        entry("good", "m.tgz", sha, archive="tgz"),
        entry("bad", "m.tgz", "4" * 64, archive="tgz"),
    )

    assert main_fetch("good", models_dir, server.base_url) == 0
    captured = capsys.readouterr()
    assert f"Installed good in {models_dir / 'good'}" in captured.out

    assert main_fetch("bad", models_dir, server.base_url) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: checksum mismatch")

    assert main_fetch("nope", models_dir, server.base_url) == 1
    assert "known models: good, bad" in capsys.readouterr().err

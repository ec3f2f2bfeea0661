"""Google's official MobileNet TFLite archives, fetched on request and verified.

Only the default model ships inside the package; other MobileNets are downloaded by
`clevercam models fetch NAME` into a folder the Classifier can load
(`<models_dir>/<name>/model.tflite` + `labels.txt`). Every archive is pinned by sha256, so a
changed or tampered file is refused before anything is unpacked, and an install is atomic:
the folder appears whole or not at all.

Checksums are the published ones from public build recipes that fetch these exact URLs and
verify them (see each entry's `sha256_source`); none was computed here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Literal

import requests

from .config import BUNDLED_MODELS, DEFAULT_MODEL

ArchiveKind = Literal["zip", "tgz"]

MAX_ARCHIVE_BYTES = 256 * 1024 * 1024  # the largest v3 float archives hold checkpoints too
MAX_MEMBER_BYTES = 128 * 1024 * 1024  # a MobileNet .tflite is 3-25 MB; refuse archive bombs
_CHUNK = 1024 * 1024
_TFLITE_IDENTIFIER = b"TFL3"  # flatbuffer file identifier at bytes 4..8 of every .tflite

_RENESAS = (
    "renesas-rz/meta-renesas-ai, meta-benchmark/recipes-benchmark/models/"
    "models-tensorflow-lite.bb (SRC_URI sha256sum)"
)


class ModelCatalogError(Exception):
    """A model cannot be fetched or installed; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    name: str  # folder name under the models directory
    url: str
    sha256: str  # of the archive as downloaded
    archive: ArchiveKind
    model_member: str  # file name of the .tflite inside the archive (any folder)
    labels_member: str | None  # None: the archive has no labels, use the bundled ImageNet ones
    description: str
    sha256_source: str

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="mobilenet_v1_224_uint8",
        url="https://storage.googleapis.com/download.tensorflow.org/models/tflite/"
        "mobilenet_v1_1.0_224_quant_and_labels.zip",
        sha256="2f8054076cf655e1a73778a49bd8fd0306d32b290b7e576dda9574f00f186c0f",
        archive="zip",
        model_member="mobilenet_v1_1.0_224_quant.tflite",
        labels_member="labels_mobilenet_quant_v1_224.txt",
        description="MobileNet V1 1.0, 224x224, uint8 (quantization-aware training)",
        sha256_source="STMicroelectronics' X-LINUX-AI Yocto recipes and other Yocto "
        "tensorflow-lite recipes (SRC_URI sha256sum, the same value in each)",
    ),
    CatalogEntry(
        name="mobilenet_v2_224_uint8",
        url="https://storage.googleapis.com/download.tensorflow.org/models/tflite_11_05_08/"
        "mobilenet_v2_1.0_224_quant.tgz",
        sha256="d6a04d780f76f656c902413be432eb349ec4a458240e3739119eb44977f77a79",
        archive="tgz",
        model_member="mobilenet_v2_1.0_224_quant.tflite",
        labels_member=None,
        description="MobileNet V2 1.0, 224x224, uint8 (quantization-aware training)",
        sha256_source=f"{_RENESAS}; also Bazel http_archive rules in several public repos",
    ),
    CatalogEntry(
        name="mobilenet_v3_large_224_float",
        url="https://storage.googleapis.com/mobilenet_v3/checkpoints/v3-large_224_1.0_float.tgz",
        sha256="9be8563f92022f412c82f2811d670888d6db998e2da9af3e71415fdde2f4f504",
        archive="tgz",
        model_member="v3-large_224_1.0_float.tflite",
        labels_member=None,
        description="MobileNet V3 large 1.0, 224x224, float32",
        sha256_source=_RENESAS,
    ),
    CatalogEntry(
        name="mobilenet_v3_large_224_uint8",
        url="https://storage.googleapis.com/mobilenet_v3/checkpoints/v3-large_224_1.0_uint8.tgz",
        sha256="42cfd69fb70c48dde56dc3f2c872bdeb4fdc9beb3105e4b164dde7c49b7a2702",
        archive="tgz",
        model_member="v3-large_224_1.0_uint8.tflite",
        labels_member=None,
        description="MobileNet V3 large 1.0, 224x224, uint8",
        sha256_source=_RENESAS,
    ),
    CatalogEntry(
        name="mobilenet_v3_small_224_float",
        url="https://storage.googleapis.com/mobilenet_v3/checkpoints/v3-small_224_1.0_float.tgz",
        sha256="e60ad9f450f892ae56f8b9122ffc750d88940d9e6b63f6dc70649179fb3a9065",
        archive="tgz",
        model_member="v3-small_224_1.0_float.tflite",
        labels_member=None,
        description="MobileNet V3 small 1.0, 224x224, float32 (fastest, least accurate)",
        sha256_source=_RENESAS,
    ),
    CatalogEntry(
        name="mobilenet_v3_small_224_uint8",
        url="https://storage.googleapis.com/mobilenet_v3/checkpoints/v3-small_224_1.0_uint8.tgz",
        sha256="58ecd8c4c5b0a330f1d72c0a3d7bc6073ff771e14b052da336691246ee8e178f",
        archive="tgz",
        model_member="v3-small_224_1.0_uint8.tflite",
        labels_member=None,
        description="MobileNet V3 small 1.0, 224x224, uint8",
        sha256_source=_RENESAS,
    ),
)


def bundled_labels() -> Path:
    """The 1001 ImageNet labels (background first) that every catalog model outputs."""
    return BUNDLED_MODELS / DEFAULT_MODEL / "labels.txt"


def list_models() -> list[CatalogEntry]:
    return list(CATALOG)


def find_entry(name: str) -> CatalogEntry:
    for entry in CATALOG:
        if entry.name == name:
            return entry
    known = ", ".join(entry.name for entry in CATALOG)
    raise ModelCatalogError(f"unknown model {name!r}; known models: {known}")


def source_url(entry: CatalogEntry, base_url: str | None = None) -> str:
    """The entry's URL, or its file name under base_url (a mirror, or a test server)."""
    if base_url is None:
        return entry.url
    return f"{base_url.rstrip('/')}/{entry.file_name}"


def installed_models(models_dirs: list[Path]) -> list[Path]:
    """Model folders (those holding model.tflite) in the given folders and the bundled one."""
    found: list[Path] = []
    seen: set[Path] = set()
    for parent in [*models_dirs, BUNDLED_MODELS]:
        if not parent.is_dir():
            continue
        for folder in sorted(parent.iterdir()):
            if folder.name.startswith("."):  # a fetch in progress, or one that was killed
                continue
            key = folder.resolve()
            if key in seen or not (folder / "model.tflite").is_file():
                continue
            seen.add(key)
            found.append(folder)
    return found


def fetch_model(
    name: str,
    models_dir: Path,
    *,
    base_url: str | None = None,
    timeout: float = 60,
    max_bytes: int = MAX_ARCHIVE_BYTES,
) -> Path:
    """Download, verify and install one catalog model; returns `<models_dir>/<name>`.

    An existing folder of that name is replaced only once the new one is complete.
    """
    entry = find_entry(name)
    url = source_url(entry, base_url)
    models_dir.mkdir(parents=True, exist_ok=True)
    handle, archive_name = tempfile.mkstemp(dir=models_dir, prefix=f".{name}-", suffix=".part")
    os.close(handle)
    archive_path = Path(archive_name)
    staging = Path(tempfile.mkdtemp(dir=models_dir, prefix=f".{name}-"))
    try:
        actual = _download(url, archive_path, timeout=timeout, max_bytes=max_bytes)
        if actual != entry.sha256:
            raise ModelCatalogError(
                f"checksum mismatch for {url}: expected sha256 {entry.sha256}, got {actual}; "
                "the file was not installed"
            )
        _unpack(entry, archive_path, staging)
        return _install(staging, models_dir / entry.name)
    finally:
        archive_path.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)


def _download(url: str, target: Path, *, timeout: float, max_bytes: int) -> str:
    """Stream url into target (never more than max_bytes); returns the sha256 hex digest."""
    digest = hashlib.sha256()
    try:
        with requests.get(url, stream=True, timeout=timeout) as response:
            if response.status_code != 200:
                raise ModelCatalogError(
                    f"download of {url} failed: HTTP {response.status_code} {response.reason}"
                )
            announced = response.headers.get("Content-Length")
            if announced is not None and announced.isdigit() and int(announced) > max_bytes:
                raise ModelCatalogError(
                    f"{url} is {int(announced)} bytes, more than the {max_bytes} allowed"
                )
            size = 0
            with target.open("wb") as out:
                for chunk in response.iter_content(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ModelCatalogError(f"{url} is larger than the {max_bytes} allowed")
                    digest.update(chunk)
                    out.write(chunk)
    except requests.RequestException as error:
        raise ModelCatalogError(f"cannot download {url}: {error}") from None
    return digest.hexdigest()


def _check_member_name(name: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ModelCatalogError(f"archive member {name!r} points outside the archive; refused")


def _pick(names: list[str], wanted: str) -> str:
    """The one member whose file name is `wanted`, in whichever folder the archive uses."""
    matches = [name for name in names if PurePosixPath(name).name == wanted]
    if len(matches) != 1:
        problem = "has no" if not matches else "has more than one"
        raise ModelCatalogError(f"the archive {problem} member named {wanted}")
    return matches[0]


@contextlib.contextmanager
def _open_member(archive: Path, kind: ArchiveKind, wanted: str) -> Iterator[IO[bytes]]:
    """A readable stream of one regular-file member, after checking every member's name."""
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as bundle:
                infos = bundle.infolist()
                for info in infos:
                    _check_member_name(info.filename)
                name = _pick([info.filename for info in infos if not info.is_dir()], wanted)
                if bundle.getinfo(name).file_size > MAX_MEMBER_BYTES:
                    raise ModelCatalogError(f"archive member {name} is too large")
                with bundle.open(name) as stream:
                    yield stream
        else:
            with tarfile.open(archive, "r:gz") as bundle:
                members = bundle.getmembers()
                for member in members:
                    _check_member_name(member.name)
                name = _pick([member.name for member in members if not member.isdir()], wanted)
                member = bundle.getmember(name)
                if not member.isfile():  # a link or device could reach outside the folder
                    raise ModelCatalogError(f"archive member {name} is not a regular file")
                if member.size > MAX_MEMBER_BYTES:
                    raise ModelCatalogError(f"archive member {name} is too large")
                extracted = bundle.extractfile(member)
                if extracted is None:
                    raise ModelCatalogError(f"archive member {name} cannot be read")
                with extracted:
                    yield extracted
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
        raise ModelCatalogError(f"cannot unpack the {kind} archive: {error}") from None


def _copy_limited(source: IO[bytes], target: Path) -> None:
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > MAX_MEMBER_BYTES:
                raise ModelCatalogError(f"{target.name} from the archive is too large")
            out.write(chunk)


def _unpack(entry: CatalogEntry, archive: Path, staging: Path) -> None:
    """Write only model.tflite and labels.txt into staging; nothing else leaves the archive."""
    with _open_member(archive, entry.archive, entry.model_member) as stream:
        _copy_limited(stream, staging / "model.tflite")
    with (staging / "model.tflite").open("rb") as model:
        if model.read(8)[4:8] != _TFLITE_IDENTIFIER:
            raise ModelCatalogError(f"{entry.model_member} in the archive is not a TFLite model")
    if entry.labels_member is None:
        shutil.copyfile(bundled_labels(), staging / "labels.txt")
    else:
        with _open_member(archive, entry.archive, entry.labels_member) as stream:
            _copy_limited(stream, staging / "labels.txt")


def _install(staging: Path, final: Path) -> Path:
    """Rename staging into place; an older folder is moved aside first and removed after."""
    old: Path | None = None
    if final.exists():
        old = final.with_name(f".{final.name}-old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
    try:
        staging.rename(final)
    except OSError as error:
        if old is not None:
            old.rename(final)
        raise ModelCatalogError(f"cannot install {final}: {error.strerror}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


def main_list(models_dir: Path) -> int:
    """`clevercam models list`: the catalog with what is installed, then every model folder."""
    print(f"Models that can be fetched into {models_dir}:")
    width = max(len(entry.name) for entry in CATALOG)
    for entry in CATALOG:
        state = "installed" if (models_dir / entry.name / "model.tflite").is_file() else "-"
        print(f"  {entry.name:<{width}}  {state:<9}  {entry.description}")
    print("Fetch one with: clevercam models fetch NAME [--models-dir DIR]")
    print()
    print("Installed model folders:")
    for folder in installed_models([models_dir]):
        bundled = " (bundled)" if folder.parent.resolve() == BUNDLED_MODELS.resolve() else ""
        print(f"  {folder}{bundled}")
    return 0


def main_fetch(name: str, models_dir: Path, base_url: str | None) -> int:
    """`clevercam models fetch NAME`: 0 when installed, 1 with the reason on stderr."""
    try:
        entry = find_entry(name)
        print(f"Fetching {name} from {source_url(entry, base_url)} ...")
        folder = fetch_model(name, models_dir, base_url=base_url)
    except ModelCatalogError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Installed {name} in {folder} (sha256 verified).")
    print(f"Use it with `model: path: {folder}` in the configuration.")
    return 0

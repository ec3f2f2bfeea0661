"""Where the shared test data lives (never used by the product at run time)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CLEVERCAM_SHARED", ROOT.parent / "shared"))
MODEL_DIR = SHARED / "models" / "mobilenet_v3_large_minimalistic_224_uint8"
DRIVEWAY = SHARED / "samples" / "driveway_van.jpg"


def require(path: Path) -> Path:
    """A missing real part fails the test loudly instead of skipping it."""
    if not path.exists():
        raise FileNotFoundError(f"test data missing: {path} (set CLEVERCAM_SHARED)")
    return path

"""Shared test setup: offline Hub, the corpus location, and small image helpers."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "papers"
CORPUS = ROOT.parent / "shared" / "corpus"


def pytest_collection_modifyitems(config, items):
    if CORPUS.is_dir():
        return
    skip = pytest.mark.skip(reason=f"{CORPUS} is absent")
    for item in items:
        if "corpus" in item.keywords:
            item.add_marker(skip)


def png_bytes(size=(32, 24), color=(200, 30, 30)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()

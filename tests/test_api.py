"""The documented Python API: `scitune.extract(path) -> list of records`, `scitune.load(OUT)`."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image

import scitune
from scitune.schemas import FIGURE_FEATURES
from tests.conftest import EXAMPLES


def test_extract_returns_records_of_the_figures_schema_with_pil_images():
    records = scitune.extract(EXAMPLES / "dynonet.pdf", EXAMPLES / "dynonet")
    assert [r["figure_id"] for r in records] == [f"dynonet/figure{i}" for i in range(1, 7)]
    f1 = records[0]
    assert set(f1) == set(FIGURE_FEATURES)
    assert f1["source"] == "pdf+latex" and f1["caption"].startswith("Figure 1: Classic block-oriented")
    assert isinstance(f1["image"], Image.Image) and f1["image"].size[0] > 50


def test_extract_warns_with_the_reason_or_raises(tmp_path):
    bad = tmp_path / "notes.pdf"
    bad.write_text("not a PDF")
    with pytest.warns(UserWarning, match=r"notes\.pdf \(open\): .*not a PDF"):
        assert scitune.extract(bad) == []
    with pytest.raises(scitune.ExtractError) as info:
        scitune.extract(bad, tmp_path / "missing.pdf", on_error="raise")
    assert {e["stage"] for e in info.value.errors} == {"open", "input"}


def test_load_reads_an_extract_output_folder(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scitune.curate.cli",
            "extract",
            str(EXAMPLES / "dynonet.pdf"),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    figures = scitune.load(out)
    assert len(figures) == 6 and isinstance(figures[0]["image"], Image.Image)
    with pytest.raises(FileNotFoundError, match="scitune-curate instructions"):
        scitune.load(out, "instructions")


def test_import_scitune_is_cheap():
    code = (
        "import sys, scitune; print(sorted(m for m in ('pymupdf', 'datasets', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

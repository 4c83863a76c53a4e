"""`scitune-curate extract` and `validate` end to end, through the real command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pymupdf
import pytest

from tests.conftest import EXAMPLES
from tests.curate.papers import make_paper


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scitune.curate.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def rows(out: Path, table: str = "figures") -> list[dict]:
    files = sorted((out / table).glob("*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


@pytest.fixture(scope="module")
def examples_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("examples") / "out"
    result = cli("extract", str(EXAMPLES), "-o", str(out), "--workers", "2", "--no-progress")
    assert result.returncode == 0, result.stderr
    return out


def test_examples_give_joined_records_with_exact_content(examples_out):
    by_id = {r["figure_id"]: r for r in rows(examples_out)}
    f1 = by_id["dynonet/figure1"]
    assert f1["source"] == "pdf+latex" and f1["page"] == 3
    assert f1["caption_no_index"] == "Classic block-oriented architectures. All blocks are SISO."
    assert f1["caption"].endswith(f1["caption_no_index"]) and f1["caption"].startswith("Figure 1")
    assert f1["label"] == "fig:classic_blockoriented"
    assert [s["caption"] for s in f1["subfigures"]] == [
        "Wiener",
        "Hammerstein",
        "Wiener-Hammerstein",
        "Hammerstein-Wiener",
    ]
    assert any("See Figure 1 for a visual representation" in p for p in f1["paragraphs"])
    x0, y0, x1, y1 = f1["bbox"]
    assert 0 <= x0 < x1 <= 612 and 0 <= y0 < y1 <= 792
    assert f1["provenance"]["latex_input"].endswith("dynonet")
    kinds = {(r["paper_id"], r["kind"]) for r in by_id.values()}
    assert ("legwork", "figure") in kinds
    assert sum(r["paper_id"] == "dynonet" for r in by_id.values()) == 6  # dynoNet prints six figures


def test_validate_and_load_dataset_offline(examples_out):
    result = cli("validate", str(examples_out))
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.startswith("OK")
    import datasets

    ds = datasets.load_dataset(str(examples_out), "figures", split="train")
    assert len(ds) == len(rows(examples_out))
    image = ds[0]["image"]
    assert image.size[0] > 50 and image.size[1] > 50
    assert ds.features["image"].__class__.__name__ == "Image"


def test_rerun_is_idempotent(examples_out):
    before = sorted((r["figure_id"], r["caption"]) for r in rows(examples_out))
    result = cli("extract", str(EXAMPLES), "-o", str(examples_out), "--no-progress")
    assert result.returncode == 0
    assert "0 processed, 2 already done" in result.stderr
    assert sorted((r["figure_id"], r["caption"]) for r in rows(examples_out)) == before


def _encrypted(path: Path) -> Path:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret")
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw", owner_pw="owner")
    return path


def test_bad_inputs_become_error_rows_and_the_run_goes_on(tmp_path):
    papers = tmp_path / "papers"
    papers.mkdir()
    good = make_paper(papers / "good.pdf")
    (papers / "empty.pdf").write_bytes(b"")
    (papers / "text.pdf").write_text("this is not a PDF at all")
    (papers / "truncated.pdf").write_bytes(good.read_bytes()[:400])
    _encrypted(papers / "locked.pdf")
    out = tmp_path / "out"
    result = cli("extract", str(papers), str(tmp_path / "missing.pdf"), "-o", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    errors = {Path(e["input"]).name: e for e in rows(out, "errors")}
    assert {"empty.pdf", "text.pdf", "truncated.pdf", "locked.pdf", "missing.pdf"} <= set(errors)
    for name in ("empty.pdf", "text.pdf", "truncated.pdf", "locked.pdf"):
        assert errors[name]["stage"] == "open", errors[name]
        assert len(errors[name]["message"]) > 20
    assert "password" in errors["locked.pdf"]["message"].lower()
    assert errors["missing.pdf"]["stage"] == "input"
    assert {r["figure_id"] for r in rows(out)} >= {"good/figure1", "good/figure2"}
    assert cli("validate", str(out)).returncode == 0


def test_unusable_output_folder_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("extract", str(EXAMPLES), "-o", str(blocker / "out"), "--no-progress")
    assert result.returncode != 0
    assert "cannot write" in result.stderr


def _snapshot(out: Path) -> list[tuple]:
    return sorted((r["figure_id"], r["caption"], r["page"], r["image"]["bytes"]) for r in rows(out))


def test_killed_run_resumes_without_losing_or_duplicating_rows(tmp_path):
    papers = tmp_path / "papers"
    papers.mkdir()
    for i in range(8):
        make_paper(papers / f"paper{i}.pdf", seed=i)
    ref = tmp_path / "ref"
    assert cli("extract", str(papers), "-o", str(ref), "--workers", "1", "--no-progress").returncode == 0

    out = tmp_path / "out"
    args = [
        sys.executable,
        "-m",
        "scitune.curate.cli",
        "extract",
        str(papers),
        "-o",
        str(out),
        "--workers",
        "1",
        "--shard-rows",
        "1",
        "--no-progress",
    ]
    proc = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    manifests = out / ".scitune" / "manifests"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(manifests.glob("*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: the run and its workers
    proc.wait()
    done_before = len(list(manifests.glob("*.json")))
    assert 2 <= done_before < 8, "the kill should land mid-way"

    result = cli("extract", str(papers), "-o", str(out), "--workers", "1", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert f"{done_before} already done" in result.stderr
    ids = [r["figure_id"] for r in rows(out)]
    assert len(ids) == len(set(ids))
    assert _snapshot(out) == _snapshot(ref)
    assert cli("validate", str(out)).returncode == 0
    summary = json.loads(sorted((out / ".scitune" / "runs").glob("*.json"))[-1].read_text())
    assert summary["processed"] == 8 - done_before


def test_force_redoes_everything(tmp_path):
    papers = tmp_path / "p"
    papers.mkdir()
    make_paper(papers / "a.pdf")
    out = tmp_path / "out"
    assert cli("extract", str(papers), "-o", str(out), "--no-progress").returncode == 0
    result = cli("extract", str(papers), "-o", str(out), "--force", "--no-progress")
    assert "1 processed, 0 already done" in result.stderr
    assert len(rows(out)) == len({r["figure_id"] for r in rows(out)})

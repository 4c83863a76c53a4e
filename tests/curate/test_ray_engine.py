"""`extract --engine ray` on a local Ray with 2 CPUs: the local engine's rows; kill -9 of the driver, re-run.

Kept small: Ray's start-up costs seconds on 2 shared cores, so one module-wide set of inputs, few runs.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.curate import hostile
from tests.curate.papers import make_paper
from tests.curate.test_extract_cli import cli, rows
from tests.curate.test_hostile_run import _alive, _descendants, _wait_for

ray = pytest.importorskip("ray", reason="the Ray engine needs the [ray] extra")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _snapshot(out: Path) -> list[tuple]:
    figures = sorted((r["figure_id"], r["caption"], r["page"], r["image"]["bytes"]) for r in rows(out))
    errors = sorted((e["input"], e["stage"], e["error"], e["message"]) for e in rows(out, "errors"))
    return figures + errors


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Path]:
    """A handful of documents (PDFs, a LaTeX bundle, a broken PDF) and their rows by the local engine."""
    root = tmp_path_factory.mktemp("ray")
    inputs = root / "in"
    inputs.mkdir()
    for i in range(5):
        make_paper(inputs / f"paper{i}.pdf", figures=1, seed=i)
    hostile.write_tex_bundle(inputs)
    (inputs / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage")
    local = root / "local"
    result = cli("extract", str(inputs), "-o", str(local), "--workers", "2", "--no-progress")
    assert result.returncode == 0, result.stderr
    return inputs, local


def test_ray_engine_gives_the_same_rows_as_the_local_engine(corpus, tmp_path):
    inputs, local = corpus
    out = tmp_path / "ray"
    result = cli("extract", str(inputs), "-o", str(out), "--engine", "ray", "--workers", "2", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "7 found, 7 processed" in result.stderr
    assert _snapshot(out) == _snapshot(local)
    assert cli("validate", str(out)).returncode == 0


def test_kill_9_of_the_ray_driver_then_rerun_neither_loses_nor_duplicates_rows(corpus, tmp_path):
    inputs, local = corpus
    out = tmp_path / "ray"
    args = [sys.executable, "-m", "scitune.curate.cli", "extract", str(inputs), "-o", str(out)]
    args += ["--engine", "ray", "--workers", "2", "--shard-rows", "1", "--no-progress"]
    driver = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifests = out / ".scitune" / "manifests"
    try:
        assert _wait_for(lambda: len(list(manifests.glob("*.json"))) >= 2, 240), "no commit in time"
        # Ray's dashboard and runtime-env agents notice a dead raylet on their own, up to a minute later.
        tree = {p for p in _descendants(driver.pid) if b"Agent" not in _cmdline(p)}
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    finally:
        if driver.poll() is None:
            driver.kill()
    kept = len(list(manifests.glob("*.json")))
    assert 2 <= kept < 7, "the kill should land mid-way"
    # Ray's processes of that run (GCS, raylet, workers and our forked children) share its fate.
    assert _wait_for(lambda: not _alive(tree), 30), f"survivors: {_alive(tree)}"
    time.sleep(0.5)
    again = cli("extract", str(inputs), "-o", str(out), "--engine", "ray", "--workers", "2", "--no-progress")
    assert again.returncode == 0, again.stderr
    assert f"{kept} already done" in again.stderr
    ids = [r["figure_id"] for r in rows(out)]
    assert len(ids) == len(set(ids))
    assert _snapshot(out) == _snapshot(local)


def test_without_ray_the_message_says_what_to_install(tmp_path, monkeypatch):
    from scitune.curate import ray_engine
    from scitune.curate.runner import RunError

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(RunError, match=r"pip install 'scitune\[ray\]'"):
        next(ray_engine.run_documents_ray([], None, 1, 10, 512))

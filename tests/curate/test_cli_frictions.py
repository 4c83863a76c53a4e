"""The command line says what happened: one test per friction a new user met (issue 16), through the CLI,
asserting the message and the exit status."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import ROOT
from tests.curate.papers import make_paper


def cli(*args: str, env: dict | None = None, umask: int | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scitune.curate.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
    )


def card_header(out: Path) -> dict:
    return yaml.safe_load((out / "README.md").read_text(encoding="utf-8").split("---")[1])


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory) -> Path:
    papers = tmp_path_factory.mktemp("frictions") / "papers"
    papers.mkdir()
    (papers / "notes.pdf").write_text("meeting notes, not a PDF")
    (papers / "empty.pdf").write_bytes(b"")
    return papers


def test_summary_groups_errors_by_reason_with_the_first_inputs_and_the_command_to_see_all(
    tmp_path, bad_inputs
):
    papers = tmp_path / "papers"
    shutil.copytree(bad_inputs, papers)
    make_paper(papers / "good.pdf")
    out = tmp_path / "out"
    result = cli("extract", str(papers), str(tmp_path / "typo.pdf"), "-o", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr  # some inputs gave rows: the run is fine
    err = result.stderr
    assert "3 error rows, by reason:" in err
    assert "input/not_found (1):" in err and f"{tmp_path / 'typo.pdf'} does not exist" in err
    # one code (PdfOpenError), two reasons: each with its own message and input
    opened = [line for line in err.splitlines() if line.startswith("  open/")]
    assert len(opened) == 2 and all("(1):" in line for line in opened)
    assert any("not a PDF" in line for line in opened) and any("is empty" in line for line in opened)
    assert f"      {papers / 'notes.pdf'}" in err and f"      {papers / 'empty.pdf'}" in err
    assert f"see them all: scitune-curate errors {out}" in err
    assert "WARNING" not in err

    listed = cli("errors", str(out))
    assert listed.returncode == 0
    assert listed.stdout.count("\n  ") == 3 and "typo.pdf" in listed.stdout and "notes.pdf" in listed.stdout
    only = cli("errors", str(out), "--stage", "input")
    assert only.returncode == 0 and "typo.pdf" in only.stdout and "notes.pdf" not in only.stdout


def test_an_empty_input_folder_is_a_loud_error_unless_allowed(tmp_path):
    empty = tmp_path / "papers"
    empty.mkdir()
    (empty / "readme.txt").write_text("papers go here")
    result = cli("extract", str(empty), "-o", str(tmp_path / "out"), "--no-progress")
    assert result.returncode == 1
    assert f"WARNING: no input found in {empty}" in result.stderr
    assert "(1 other files were ignored)" in result.stderr and "--allow-empty" in result.stderr
    allowed = cli("extract", str(empty), "-o", str(tmp_path / "out"), "--no-progress", "--allow-empty")
    assert allowed.returncode == 0 and "WARNING: no input found" in allowed.stderr


def test_every_input_failed_is_a_loud_error_and_the_errors_config_still_loads(tmp_path, bad_inputs):
    out = tmp_path / "out"
    result = cli("extract", str(bad_inputs), str(tmp_path / "typo.pdf"), "-o", str(out), "--no-progress")
    assert result.returncode == 1
    assert "WARNING: every input failed (3 of 3): no figure or table was extracted" in result.stderr
    assert "does not exist" in result.stderr and "not a PDF" in result.stderr  # the reasons, in the terminal

    allowed = cli("extract", str(bad_inputs), "-o", str(out), "--no-progress", "--allow-empty")
    assert allowed.returncode == 0
    assert f"load with datasets.load_dataset({str(out)!r}, 'errors')" in allowed.stderr
    # the card lists only configs with data: `errors` is the default, no empty `figures` config
    assert [c["config_name"] for c in card_header(out)["configs"]] == ["errors"]
    import datasets

    errors = datasets.load_dataset(str(out), "errors", split="train")
    assert sorted(Path(p).name for p in errors["input"]) == ["empty.pdf", "notes.pdf", "typo.pdf"]


def test_output_into_a_folder_of_the_user_is_refused(tmp_path, bad_inputs):
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "README.md").write_text("# my thesis notes\n")
    result = cli("extract", str(bad_inputs), "-o", str(mine), "--no-progress", "--allow-empty")
    assert result.returncode == 2
    assert f"error: {mine} exists, is not empty and is not a scitune output folder" in result.stderr
    assert "Choose a new or empty folder" in result.stderr
    assert (mine / "README.md").read_text() == "# my thesis notes\n" and sorted(os.listdir(mine)) == [
        "README.md"
    ]
    # an empty folder, and a scitune output folder (marker .scitune/), are fine
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("extract", str(bad_inputs), "-o", str(empty), "--no-progress", "--allow-empty").returncode == 0
    again = cli("extract", str(bad_inputs), "-o", str(empty), "--no-progress", "--allow-empty")
    assert again.returncode == 0 and "0 processed, 2 already done" in again.stderr
    # filter's destination is protected the same way
    refused = cli("filter", str(empty), "-o", str(mine), "--no-progress")
    assert refused.returncode == 2 and "is not a scitune output folder" in refused.stderr


def test_push_to_hub_dry_run_works_offline(tmp_path):
    papers = tmp_path / "papers"
    papers.mkdir()
    make_paper(papers / "good.pdf")
    out = tmp_path / "out"
    assert cli("extract", str(papers), "-o", str(out), "--no-progress").returncode == 0
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    start = time.monotonic()
    result = cli("push-to-hub", str(out), "user/figures", "--dry-run", env=env)
    seconds = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    shard = next((out / "figures").glob("*.parquet"))
    assert f"  add     figures/{shard.name}  " in result.stdout and "  add     README.md  " in result.stdout
    assert "would send: 4 new or changed files" in result.stdout and "kB" in result.stdout
    assert (
        'would commit "Publish scitune dataset (1 figures shards, 0 instructions shards, 0 errors shards)"'
        in (result.stdout)
    )
    assert "offline (HF_HUB_OFFLINE is set)" in result.stdout
    assert seconds < 30  # no retries against a network that is not there


def test_setup_says_what_it_installs_and_can_be_told_not_to():
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    plan = subprocess.run([make, "-n", "system-deps", "test-deps"], cwd=ROOT, capture_output=True, text=True)
    assert plan.returncode == 0
    assert "installing the Debian package ghostscript (apt-get install ghostscript), because" in plan.stdout
    assert "installing the Debian package chromium (apt-get install chromium), because" in plan.stdout
    # with nothing on PATH every package is missing: SYSTEM_DEPS=no installs none and names each one
    env = {"PATH": "/nonexistent", "HOME": os.environ.get("HOME", "/tmp")}
    skipped = subprocess.run(
        [make, "system-deps", "test-deps", "SYSTEM_DEPS=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert skipped.returncode == 0, skipped.stderr
    assert "note: ghostscript is not installed (SYSTEM_DEPS=no)" in skipped.stdout
    assert "To install it: apt-get install ghostscript" in skipped.stdout
    assert "note: chromium is not installed (SYSTEM_DEPS=no)" in skipped.stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ". .venv/bin/activate" in readme and "SYSTEM_DEPS=no" in readme


def test_unknown_setting_names_the_dotted_key_and_close_matches():
    result = subprocess.run(
        [sys.executable, "-m", "scitune.train.cli", "finetune", "tiny-cpu", "--set", "instruct.lrr=1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 2
    assert (
        "error: unknown setting instruct.lrr; did you mean instruct.lr or instruct.lora_r?" in result.stderr
    )


def test_help_reads_right():
    result = cli("extract", "--help")
    assert result.returncode == 0
    assert "extract [OPTIONS] INPUTS..." in result.stdout and "{inputs}" not in result.stdout
    force = next(line for line in result.stdout.splitlines() if "--force" in line)
    assert "<bool>" not in force and "Redo everything" in force
    # OCR is part of the default install now (no `[ocr]` extra to name); its help reads whole
    assert "always: OCR of the whole rendered float" in " ".join(result.stdout.split()).replace("│ ", "")
    missing = cli("extract")
    assert missing.returncode == 2 and "Missing argument 'INPUTS...'" in missing.stderr


def test_written_files_follow_the_umask(tmp_path):
    papers = tmp_path / "papers"
    papers.mkdir()
    make_paper(papers / "good.pdf")
    for umask, mode in ((0o022, 0o644), (0o077, 0o600)):
        out = tmp_path / f"out{umask:o}"
        assert cli("extract", str(papers), "-o", str(out), "--no-progress", umask=umask).returncode == 0
        files = [out / "README.md", *(out / "assets").glob("*.png"), *(out / "figures").glob("*.parquet")]
        assert len(files) >= 4
        assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: mode for f in files}


def test_evaluate_says_where_scienceqa_comes_from(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scitune.train.cli",
            "evaluate",
            "--task",
            "scienceqa",
            "--data",
            str(tmp_path / "scienceqa"),
            "--predictions",
            str(tmp_path / "p.json"),
            "-o",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 2
    assert "Get ScienceQA from github.com/lupantech/ScienceQA" in result.stderr
    assert "hf download derek-thomas/ScienceQA" in result.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "scitune-train prepare-scienceqa" in readme
    for task in ("scienceqa", "scicap", "vistext"):
        assert f"--task {task}" in readme
    assert "problems.json" in readme and "pid_splits.json" in readme


def test_figures_rows_are_unchanged_by_the_refusal_check(tmp_path):
    """Re-running extract into its own OUT (which has .scitune/) still resumes: the marker is ours."""
    papers = tmp_path / "papers"
    papers.mkdir()
    make_paper(papers / "good.pdf")
    out = tmp_path / "out"
    assert cli("extract", str(papers), "-o", str(out), "--no-progress").returncode == 0
    before = pq.read_table(next((out / "figures").glob("*.parquet"))).num_rows
    again = cli("extract", str(papers), "-o", str(out), "--no-progress")
    assert again.returncode == 0 and "0 processed, 1 already done" in again.stderr
    assert sum(pq.read_table(p).num_rows for p in (out / "figures").glob("*.parquet")) == before

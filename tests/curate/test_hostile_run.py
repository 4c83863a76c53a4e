"""Faults of the run itself (issue 13): a second run on one OUT, Ctrl-C, kill -9, a damaged shard, a full
disk, limits that would switch a guard off, a worker killed for memory, children that outlive their run."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scitune.curate.document import Options, Result
from scitune.curate.inputs import Document
from scitune.curate.runner import run_documents
from tests.curate import hostile
from tests.curate.papers import make_paper
from tests.curate.test_extract_cli import cli, rows


def _extract_args(inputs: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "scitune.curate.cli",
        "extract",
        str(inputs),
        "-o",
        str(out),
        "--no-progress",
    ] + [*extra]


def _snapshot(out: Path) -> list[tuple]:
    return sorted((r["figure_id"], r["caption"], r["page"], r["image"]["bytes"]) for r in rows(out))


def _descendants(pid: int) -> set[int]:
    """Every live process below `pid` (from /proc), zombies excluded."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _gs_running(marker: str) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmd and b"gs" in cmd.split(b"\0")[0]:
                found |= _alive({int(entry)})
    return found


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


needs_gs = pytest.mark.skipif(not shutil.which("gs"), reason="ghostscript is not installed")


@needs_gs
def test_second_run_is_refused_kill9_leaves_no_process_and_no_stuck_lock(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    src = hostile.write_endless_eps(inputs)
    make_paper(inputs / "good.pdf", figures=1)
    out = tmp_path / "out"
    first = subprocess.Popen(
        _extract_args(inputs, out, "--workers", "2", "--timeout", "120"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert _wait_for(lambda: _gs_running(str(src)), 60), "ghostscript never started"
        # A second run on the same OUT (other settings, as in the issue) refuses instead of duplicating rows.
        second = cli(
            "extract", str(inputs), "-o", str(out), "--workers", "1", "--shard-rows", "3", "--no-progress"
        )
        assert second.returncode == 2
        assert "in use by another extract run" in second.stderr and f"pid {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        tree = _descendants(first.pid)
        assert tree, "the run should have a forkserver, workers and ghostscript"
        first.send_signal(signal.SIGKILL)  # the main process only: nothing of ours may survive it
        first.wait()
        assert _wait_for(lambda: not _alive(tree), 15), f"survivors: {_alive(tree)}"
        assert b"BrokenPipeError" not in first.stderr.read()
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    # The kernel freed the lock with its holder: the next run works, and its timeout ends ghostscript too.
    third = cli("extract", str(inputs), "-o", str(out), "--workers", "2", "--timeout", "6", "--no-progress")
    assert third.returncode == 0, third.stderr
    assert not _gs_running(str(src)), "ghostscript outlived the timed-out worker"
    errors = [e for e in rows(out, "errors") if e["input"].startswith(str(src))]
    assert [e["stage"] for e in errors] == ["timeout"] and "--timeout" in errors[0]["message"]
    assert [r["kind"] for r in rows(out)] == ["figure", "table"]  # the good paper in the same run


def test_ctrl_c_stops_cleanly_says_how_to_resume_and_the_rerun_is_identical(tmp_path):
    papers = tmp_path / "papers"
    papers.mkdir()
    # Enough papers that the run is still going when the second commit is seen, on a fast machine too
    # (with 6 it could finish before the signal arrived).
    n_papers = 24
    for i in range(n_papers):
        make_paper(papers / f"paper{i}.pdf", seed=i)
    ref = tmp_path / "ref"
    assert cli("extract", str(papers), "-o", str(ref), "--workers", "2", "--no-progress").returncode == 0
    out = tmp_path / "out"
    proc = subprocess.Popen(
        _extract_args(papers, out, "--workers", "1", "--shard-rows", "1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal sends it: a test run started in the background (CI, `cmd &`) inherits SIGINT
        # ignored, and Python then installs no KeyboardInterrupt handler at all.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    manifests = out / ".scitune" / "manifests"
    assert _wait_for(lambda: len(list(manifests.glob("*.json"))) >= 2, 120)
    tree = _descendants(proc.pid)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "re-run the same command" in stderr
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr and "KeyboardInterrupt" not in stderr
    assert _wait_for(lambda: not _alive(tree), 10), "workers outlived Ctrl-C"
    kept = len(list(manifests.glob("*.json")))
    assert 2 <= kept < n_papers, "committed shards are kept"
    again = cli("extract", str(papers), "-o", str(out), "--workers", "2", "--no-progress")
    assert again.returncode == 0, again.stderr
    assert f"{kept} already done" in again.stderr
    assert _snapshot(out) == _snapshot(ref)


def test_damaged_shard_is_named_by_validate_and_redone_by_the_next_run(tmp_path):
    papers = tmp_path / "papers"
    papers.mkdir()
    for i in range(3):
        make_paper(papers / f"p{i}.pdf", figures=1, seed=i)
    out = tmp_path / "out"
    assert cli("extract", str(papers), "-o", str(out), "--shard-rows", "1", "--no-progress").returncode == 0
    before = _snapshot(out)
    shard = sorted((out / "figures").glob("*.parquet"))[1]
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])  # a copy cut short
    check = cli("validate", str(out))
    assert check.returncode == 1 and f"figures/{shard.name}: damaged shard" in check.stderr
    assert "Traceback" not in check.stderr
    again = cli("extract", str(papers), "-o", str(out), "--no-progress")
    assert again.returncode == 0, again.stderr
    assert f"{shard.name} is damaged" in again.stderr and "processed again" in again.stderr
    assert "1 processed, 2 already done" in again.stderr
    assert _snapshot(out) == before
    assert cli("validate", str(out)).returncode == 0


def _file_limit(n_bytes: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (n_bytes, n_bytes))

    return apply


def test_file_size_limit_is_a_clear_message_nothing_half_written_and_rerun_resumes(tmp_path):
    papers = tmp_path / "papers"
    papers.mkdir()
    for i in range(2):
        make_paper(papers / f"p{i}.pdf", figures=1, seed=i)
    ref = tmp_path / "ref"
    assert cli("extract", str(papers), "-o", str(ref), "--no-progress").returncode == 0
    out = tmp_path / "out"
    full = subprocess.run(
        _extract_args(papers, out, "--workers", "1"),
        capture_output=True,
        text=True,
        preexec_fn=_file_limit(8192),  # `ulimit -f 8`: a shard with an image does not fit, as on a full disk
        timeout=300,
    )
    assert full.returncode == 1, full.stderr
    assert "file size limit" in full.stderr and "re-run the same command" in full.stderr
    assert "Traceback" not in full.stderr and full.stderr.count("error:") == 1
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")], "half-written files left"
    manifests = [json.loads(m.read_text()) for m in (out / ".scitune" / "manifests").glob("*.json")]
    committed = {f for m in manifests for f in m["files"]}
    on_disk = {f"{t}/{p.name}" for t in ("figures", "errors") for p in (out / t).glob("*.parquet")}
    assert on_disk == committed, "a shard without its manifest"
    again = cli("extract", str(papers), "-o", str(out), "--no-progress")
    assert again.returncode == 0, again.stderr
    assert _snapshot(out) == _snapshot(ref)


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-3"])
def test_timeout_that_would_switch_the_limit_off_is_refused(tmp_path, value):
    (tmp_path / "in").mkdir()
    result = cli("extract", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--timeout", value)
    assert result.returncode == 2
    assert "--timeout must be a finite number of seconds above 0" in result.stderr
    assert "Traceback" not in result.stderr


def _memory_work(doc: Document, opts: Options) -> Result:
    if doc.key == "hog":
        blocks = [bytearray(64 * 2**20) for _ in range(64)]  # 4 GB, over a 512 MB cap
        return Result(doc.key, doc.paper_id, pages=len(blocks))
    if doc.key == "oom-killed":  # what the kernel's out-of-memory killer does
        os.kill(os.getpid(), signal.SIGKILL)
    return Result(doc.key, doc.paper_id, pages=1)


def test_worker_over_its_memory_cap_or_oom_killed_is_an_error_row_and_others_finish(tmp_path):
    docs = [Document(key=k, paper_id=k, stem_id=k) for k in ("a", "hog", "oom-killed", "b")]
    results = {
        r.key: r for r in run_documents(docs, Options(workdir=tmp_path), 2, 60, 512, work=_memory_work)
    }
    assert results["a"].pages == results["b"].pages == 1 and not results["a"].errors
    hog = results["hog"].errors[0]
    assert hog["stage"] == "crash" and "MemoryError" in hog["message"] and "--max-memory" in hog["message"]
    killed = results["oom-killed"].errors[0]
    assert killed["stage"] == "crash" and "signal 9" in killed["message"] and "memory" in killed["message"]


class _SlowOcr:
    """Stands in for the OCR engine (curate/ocr.py's interface): three seconds per float, one word found."""

    name = "rapidocr"
    dpi = 150

    def read(self, rgb):
        from scitune.curate.ocr import Word

        time.sleep(3.0)
        return [Word("word", (0.0, 0.0, 0.1, 0.1))]


def _ocr_work(doc: Document, opts: Options) -> Result:
    from scitune.curate import ocr
    from scitune.curate.document import process_document

    ocr._ENGINES[opts.ocr_engine] = _SlowOcr()
    return process_document(doc, opts)


def test_ocr_stops_before_the_document_timeout_and_the_rows_already_made_are_kept(tmp_path):
    from scitune.curate.inputs import plan_inputs

    make_paper(tmp_path / "many.pdf", figures=16, seed=1)  # 8 raster figures without a text layer: OCR
    plan = plan_inputs([tmp_path / "many.pdf"])
    doc = plan.documents[0]
    doc.paper_id = doc.stem_id
    # 8 x 3 s of OCR does not fit in 70 % of 20 s: without the OCR budget the worker is killed, 0 rows.
    [result] = run_documents([doc], Options(workdir=tmp_path, ocr="auto"), 1, 20.0, 2048, work=_ocr_work)
    assert [e["stage"] for e in result.errors if e["stage"] == "timeout"] == []
    assert sum(r["kind"] == "figure" for r in result.figures) == 16 and len(result.figures) == 17
    skipped = [e for e in result.errors if e["error"] == "OcrError"]
    assert skipped and all("--timeout" in e["message"] for e in skipped)
    done = [r for r in result.figures if r["ocr_source"] == "ocr"]
    assert done and len(done) + len(skipped) == 8  # each raster float: OCR done, or said to be skipped
    assert {e["figure_id"] for e in skipped}.isdisjoint(r["figure_id"] for r in done)

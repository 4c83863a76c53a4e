"""Run `extract`: plan the inputs, process each document in its own process, commit, summarise.

Each document runs in a fresh worker process (forked from a preloaded forkserver, so the cost
is milliseconds) under a time limit and a memory cap: a PDF that hangs pymupdf or crashes it
costs one error row, not the run. Results stream back to this process, which alone writes to
OUT through `RunWriter`, so a run can be killed at any moment and resumed.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shlex
import shutil
import sys
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from tqdm import tqdm

from .document import Options, Result, error_row, process_document
from .inputs import Document, assign_paper_ids, plan_inputs
from .ocr import DEFAULT_ENGINE
from .writer import SHARD_ROWS, STATE_DIR, RunWriter, reset, write_json_atomically


@dataclass
class Summary:
    documents: int = 0  # documents found in the inputs
    skipped: int = 0  # already done in an earlier run on this OUT
    processed: int = 0
    pages: int = 0
    figures: int = 0
    tables: int = 0
    errors: int = 0
    failed: int = 0  # documents that produced no row but errors
    ignored: int = 0  # files in the input folders that are neither PDFs nor source bundles
    seconds: float = 0.0
    sources: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        rate = self.pages / self.seconds if self.seconds else 0.0
        return [
            f"documents: {self.documents} found, {self.processed} processed, {self.skipped} already done, "
            f"{self.failed} failed" + (f" ({self.ignored} other files ignored)" if self.ignored else ""),
            f"pages: {self.pages} ({rate:.1f} pages/s)",
            f"floats: {self.figures} figures, {self.tables} tables "
            + (
                f"({', '.join(f'{k}: {v}' for k, v in sorted(self.sources.items()))})" if self.sources else ""
            ),
            f"errors: {self.errors} rows",
            f"time: {self.seconds:.1f} s",
        ]


@dataclass
class _Job:
    doc: Document
    proc: mp.process.BaseProcess
    conn: object
    deadline: float


def _limit_memory(max_memory_mb: int) -> None:
    try:
        import resource

        limit = max_memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass  # not enforceable on this platform; the time limit still applies


def _child(conn, work, doc: Document, opts: Options, max_memory_mb: int) -> None:
    _limit_memory(max_memory_mb)
    try:
        result = work(doc, opts)
    except BaseException as e:  # noqa: BLE001 - report, never die silently
        result = Result(
            doc.key,
            doc.paper_id,
            errors=[
                error_row(
                    doc.input,
                    doc.key,
                    "crash",
                    type(e).__name__,
                    f"the worker failed with {type(e).__name__}: {e}. If this is MemoryError, raise --max-memory.",
                    doc.paper_id,
                )
            ],
        )
    conn.send(result)
    conn.close()


def _context():
    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["scitune.curate.document"])
        return ctx
    return mp.get_context("spawn")


def _failure(job: _Job, stage: str, message: str) -> Result:
    return Result(
        job.doc.key,
        job.doc.paper_id,
        errors=[error_row(job.doc.input, job.doc.key, stage, stage, message, job.doc.paper_id)],
    )


def run_documents(
    docs: list[Document],
    opts: Options,
    workers: int,
    timeout: float,
    max_memory_mb: int,
    work=process_document,
):
    """Yield one `Result` per document, in completion order; `work(doc, opts)` runs in the worker."""
    ctx = _context()
    queue = deque(docs)
    running: list[_Job] = []
    while queue or running:
        while queue and len(running) < workers:
            doc = queue.popleft()
            receiver, sender = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(sender, work, doc, opts, max_memory_mb), daemon=True)
            proc.start()
            sender.close()
            running.append(_Job(doc, proc, receiver, time.monotonic() + timeout))
        next_deadline = min(j.deadline for j in running)
        wait(
            [j.conn for j in running] + [j.proc.sentinel for j in running],
            timeout=max(0.0, next_deadline - time.monotonic()),
        )
        for job in list(running):
            result = None
            if job.conn.poll():
                try:
                    result = job.conn.recv()
                except (EOFError, OSError):  # the pipe closed without a result: the worker died
                    job.proc.join(timeout=5)
                    result = _failure(job, "crash", _crash_message(job))
            elif not job.proc.is_alive():
                job.proc.join()
                result = _failure(job, "crash", _crash_message(job))
            elif time.monotonic() > job.deadline:
                job.proc.kill()
                result = _failure(
                    job,
                    "timeout",
                    f"stopped after {timeout:.0f} s (per-document limit). Re-run with a larger "
                    "--timeout if the document is just large.",
                )
            if result is not None:
                job.proc.join(timeout=5)
                if job.proc.is_alive():
                    job.proc.kill()
                job.conn.close()
                running.remove(job)
                yield result


def _crash_message(job: _Job) -> str:
    code = job.proc.exitcode
    how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
    return (
        f"the worker process {how} while processing this document (a crash in a native library "
        "or the memory limit; try --max-memory, and report the file if it persists)."
    )


def _claim_paper_id(result: Result, owner: dict[str, str]) -> None:
    """Keep paper ids unique when a PDF's arXiv stamp names a paper another input already has."""
    if owner.get(result.paper_id, result.key) == result.key:
        owner[result.paper_id] = result.key
        return
    new = f"{result.paper_id}-{result.key[:8]}"
    for row in result.figures:
        row["paper_id"] = new
        row["figure_id"] = new + row["figure_id"][len(result.paper_id) :]
    for row in result.errors:
        row["paper_id"] = new
        if row.get("figure_id"):
            row["figure_id"] = new + row["figure_id"][len(result.paper_id) :]
    result.paper_id = new
    owner[new] = result.key


def run_extract(
    inputs: list[Path],
    out: Path,
    workers: int | None = None,
    timeout: float = 300.0,
    dpi: int = 150,
    ocr: str = "auto",
    ocr_engine: str = DEFAULT_ENGINE,
    force: bool = False,
    license: str | None = None,
    pairs: dict[Path, Path] | None = None,
    max_memory_mb: int = 4096,
    shard_rows: int = SHARD_ROWS,
    progress: bool = True,
    command: str | None = None,
) -> Summary:
    """Extract figures and tables from all inputs into OUT; resumable and idempotent."""
    start = time.monotonic()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if force:
        reset(out)
    writer = RunWriter(out, shard_rows=shard_rows)
    writer.recover()
    scratch = out / STATE_DIR / "tmp"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)

    plan = plan_inputs(inputs, skip=[out], pairs=pairs, progress=progress)
    done = writer.done()
    summary = Summary(documents=len(plan.documents), ignored=plan.ignored)
    for p in plan.problems:  # unusable inputs: one error row each, once
        key = "input:" + p.input + ":" + p.error
        if key not in done:
            writer.add(key, "", [], [error_row(p.input, p.sha256, p.stage, p.error, p.message)])
            summary.errors += 1
    todo, seen = [], set(done)
    for doc in plan.documents:
        if doc.key in seen:
            summary.skipped += 1
        else:
            seen.add(doc.key)
            todo.append(doc)
    assign_paper_ids(todo, done)
    owner = {pid: key for key, pid in done.items()}

    opts = Options(dpi=dpi, ocr=ocr, ocr_engine=ocr_engine, license=license, workdir=scratch)
    workers = max(1, workers or os.cpu_count() or 1)
    bar = tqdm(total=len(todo), unit="doc", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    sources: Counter = Counter()
    try:
        for result in run_documents(todo, opts, workers, timeout, max_memory_mb):
            _claim_paper_id(result, owner)
            writer.add(result.key, result.paper_id, result.figures, result.errors)
            summary.processed += 1
            summary.pages += result.pages
            summary.figures += sum(r["kind"] == "figure" for r in result.figures)
            summary.tables += sum(r["kind"] == "table" for r in result.figures)
            summary.errors += len(result.errors)
            summary.failed += bool(result.errors and not result.figures)
            sources.update(r["source"] for r in result.figures)
            elapsed = time.monotonic() - start
            bar.set_postfix(
                pages_s=f"{summary.pages / elapsed:.1f}",
                floats=summary.figures + summary.tables,
                errors=summary.errors,
                refresh=False,
            )
            bar.update()
    finally:
        bar.close()
        writer.commit()
        shutil.rmtree(scratch, ignore_errors=True)
    summary.sources = dict(sources)
    summary.seconds = time.monotonic() - start
    _finish(out, summary, command)
    return summary


def _finish(out: Path, summary: Summary, command: str | None) -> None:
    from .card import write_card

    command = command or "scitune-curate " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    write_card(out, command=command)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    write_json_atomically({"command": command, **asdict(summary)}, out / STATE_DIR / "runs" / f"{stamp}.json")

"""Run `extract`: plan the inputs, process each document in its own process, commit, summarise.

Each document runs in a fresh worker process (forked from a preloaded forkserver, so the cost
is milliseconds) under a time limit and a memory cap: a PDF that hangs pymupdf or crashes it
costs one error row, not the run. Results stream back to this process, which alone writes to
OUT through `RunWriter`, so a run can be killed at any moment and resumed.
"""

from __future__ import annotations

import errno
import math
import multiprocessing as mp
import os
import shlex
import shutil
import signal
import sys
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from tqdm import tqdm

from . import ids
from .arxiv.attach import attach_metadata, metadata_files
from .card import write_card
from .children import end_with, kill_group, own_group
from .document import Options, Result, process_document
from .inputs import Document, assign_paper_ids, plan_inputs
from .ocr import DEFAULT_ENGINE
from .pdf import render
from .rows import error_row
from .run_report import ErrorGroups
from .writer import SHARD_ROWS, STATE_DIR, OutLock, OutLocked, RunWriter, reset, write_json_atomically

ENGINES = ("local", "ray")


class RunError(Exception):
    """The run cannot go on (OUT in use, disk full, interrupted, bad limits): a message and an exit code."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


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
    unusable: int = 0  # inputs that could not be used at all (missing, unreadable, unknown type)
    license_skipped: int = 0  # documents whose licence --license does not keep (not processed)
    seconds: float = 0.0
    sources: dict = field(default_factory=dict)
    error_groups: ErrorGroups = field(default_factory=ErrorGroups)  # this run's error rows by reason

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
        ] + (
            [f"licence: {self.license_skipped} documents left out by --license (not extracted)"]
            if self.license_skipped
            else []
        )


@dataclass
class _Job:
    doc: Document
    proc: mp.process.BaseProcess
    conn: object
    deadline: float


def _limit_memory(max_memory_mb: int) -> None:
    try:
        import resource  # POSIX only: elsewhere the cap is skipped below

        limit = max_memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass  # not enforceable on this platform; the time limit still applies


# OCR stops at this share of the document's --timeout: the rest leaves time to finish and send the rows.
OCR_TIME_SHARE = 0.7


def _child(
    conn, work, doc: Document, opts: Options, max_memory_mb: int, run_pid: int, timeout: float = math.inf
) -> None:
    # Own process group (the parent kills the group: ghostscript goes with us), the end of the run ends
    # us too (a kill -9 of it leaves nothing behind), and Ctrl-C is the parent's to handle.
    own_group()
    end_with(run_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory(max_memory_mb)
    render.OCR_DEADLINE = time.monotonic() + OCR_TIME_SHARE * timeout
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
                    f"the worker failed with {type(e).__name__}: {e}. If this is MemoryError, raise "
                    "--max-memory.",
                    doc.paper_id,
                )
            ],
        )
    try:
        conn.send(result)
        conn.close()
    except OSError:  # the parent is gone or stopped listening (Ctrl-C): nothing to report to
        os._exit(1)


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
    try:
        yield from _schedule(ctx, queue, running, opts, workers, timeout, max_memory_mb, work)
    finally:  # stopped early (Ctrl-C, a write error): no worker outlives the run
        for job in running:
            kill_group(job.proc.pid)
            job.proc.join(timeout=5)
            job.conn.close()


def _schedule(ctx, queue, running, opts, workers, timeout, max_memory_mb, work):
    while queue or running:
        while queue and len(running) < workers:
            doc = queue.popleft()
            receiver, sender = ctx.Pipe(duplex=False)
            args = (sender, work, doc, opts, max_memory_mb, os.getpid(), timeout)
            proc = ctx.Process(target=_child, args=args, daemon=True)
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
                kill_group(job.proc.pid)
                result = _failure(
                    job,
                    "timeout",
                    f"stopped after {timeout:.0f} s (per-document limit). Re-run with a larger "
                    "--timeout if the document is just large.",
                )
            if result is not None:
                job.proc.join(timeout=5)
                kill_group(job.proc.pid)  # anything the worker started and left behind
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
    new = ids.unique_paper_id(result.paper_id, result.key, owner)
    if new == result.paper_id:
        return
    for row in result.figures + result.errors:
        row["paper_id"] = new
        if row.get("figure_id"):
            row["figure_id"] = ids.move_figure_id(row["figure_id"], result.paper_id, new)
    result.paper_id = new


def check_limits(timeout: float, max_memory_mb: int, workers: int | None) -> None:
    """Refuse limits that would switch a guard off: inf overflowed, nan compared false and disabled it."""
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        raise RunError(f"--timeout must be a finite number of seconds above 0, not {timeout!r}", 2)
    if max_memory_mb < 64:
        raise RunError(f"--max-memory must be at least 64 MB, not {max_memory_mb}", 2)
    if workers is not None and workers < 1:
        raise RunError(f"--workers must be at least 1, not {workers}", 2)


def _write_failed(e: OSError, out: Path) -> RunError:
    what = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EFBIG: "a file size limit was hit (ulimit -f)",
    }.get(e.errno, f"writing failed ({e.strerror or e})")
    return RunError(
        f"cannot write to {out}: {what}. Nothing was half-written: every shard committed before stays, "
        "the rows being written were dropped. Free space (or raise the limit) and re-run the same command "
        "to resume where it stopped.",
        1,
    )


RESUME_HINT = "re-run the same command to resume: committed shards are kept and done inputs are skipped"


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
    metadata: list[Path] = (),
    licenses: set[str] | None = None,
    engine: str = "local",
    address: str | None = None,
) -> Summary:
    """Extract figures and tables from all inputs into OUT; resumable and idempotent.

    Raises `RunError` (message and exit code) when the run cannot go on: OUT in use by another run,
    a full disk, Ctrl-C, limits that make no sense.
    """
    check_limits(timeout, max_memory_mb, workers)
    if engine not in ENGINES:
        raise RunError(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}", 2)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        lock = OutLock(out)
    except OutLocked as e:
        raise RunError(str(e), 2) from None
    with lock:
        try:
            return _run_locked(
                inputs, out, workers, timeout, dpi, ocr, ocr_engine, force, license, pairs, max_memory_mb,
                shard_rows, progress, command, metadata, licenses, engine, address,
            )  # fmt: skip
        except KeyboardInterrupt:
            raise RunError(f"interrupted: stopped cleanly; {RESUME_HINT}.", 130) from None
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO):
                raise _write_failed(e, out) from None
            raise


def _run_locked(
    inputs, out, workers, timeout, dpi, ocr, ocr_engine, force, license, pairs, max_memory_mb, shard_rows,
    progress, command, metadata, licenses, engine, address,
) -> Summary:  # fmt: skip
    start = time.monotonic()
    if force:
        reset(out)
    writer = RunWriter(out, shard_rows=shard_rows)
    writer.recover()
    for damaged in writer.drop_damaged():  # the next run names a damaged shard and redoes its inputs
        print(
            f"warning: {damaged} is damaged (truncated or unreadable); its inputs are processed again",
            file=sys.stderr,
        )
    scratch = out / STATE_DIR / "tmp"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)

    plan = plan_inputs(inputs, skip=[out], pairs=pairs, progress=progress)
    # arXiv metadata (beside the inputs or --metadata) gives versions, licences and the `paper` column;
    # --license then drops documents before any work, so a later run with other choices still does them.
    left_out = attach_metadata(plan.documents, metadata_files(inputs, metadata), licenses, license)
    dropped = {id(d) for d in left_out}
    plan.documents = [d for d in plan.documents if id(d) not in dropped]
    done = writer.done()
    summary = Summary(
        documents=len(plan.documents),
        ignored=plan.ignored,
        unusable=len(plan.problems),
        license_skipped=len(left_out),
    )
    for p in plan.problems:  # unusable inputs: one error row each, once
        key = "input:" + p.input + ":" + p.error
        row = error_row(p.input, p.sha256, p.stage, p.error, p.message)
        summary.error_groups.add(row)
        if key not in done:
            writer.add(key, "", [], [row])
            summary.errors += 1
    todo, first = [], {}
    for doc in plan.documents:
        if doc.key in done:
            summary.skipped += 1
        elif doc.key in first:  # the same content given twice in this run: processed once, and said so
            key = "input:" + doc.input + ":duplicate"
            if key not in done:
                message = (
                    f"{doc.input} has the same content as {first[doc.key].input} (sha256 {doc.key[:12]}), "
                    "which this run processes; it was not processed twice."
                )
                writer.add(key, "", [], [error_row(doc.input, doc.key, "input", "duplicate", message)])
                summary.errors += 1
        else:
            first[doc.key] = doc
            todo.append(doc)
    del first
    assign_paper_ids(todo, done)
    owner = {pid: key for key, pid in done.items()}

    opts = Options(dpi=dpi, ocr=ocr, ocr_engine=ocr_engine, license=license, workdir=scratch)
    workers = max(1, workers or os.cpu_count() or 1)
    if engine == "ray":
        from .ray_engine import run_documents_ray  # optional dependency, imported only when asked for

        results = run_documents_ray(todo, opts, workers, timeout, max_memory_mb, address=address)
    else:
        results = run_documents(todo, opts, workers, timeout, max_memory_mb)
    bar = tqdm(total=len(todo), unit="doc", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    sources: Counter = Counter()
    completed = False
    try:
        for result in results:
            _claim_paper_id(result, owner)
            writer.add(result.key, result.paper_id, result.figures, result.errors)
            summary.processed += 1
            summary.pages += result.pages
            summary.figures += sum(r["kind"] == "figure" for r in result.figures)
            summary.tables += sum(r["kind"] == "table" for r in result.figures)
            summary.errors += len(result.errors)
            for row in result.errors:
                summary.error_groups.add(row)
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
        completed = True
    except KeyboardInterrupt:
        results.close()  # workers ended before anything else
        _commit_quietly(writer)  # the documents that finished are kept
        raise
    finally:
        bar.close()
        results.close()
        if completed:
            writer.commit()  # a write error here is raised once, to run_extract
        shutil.rmtree(scratch, ignore_errors=True)
    summary.sources = dict(sources)
    summary.seconds = time.monotonic() - start
    _finish(out, summary, command)
    return summary


def _commit_quietly(writer: RunWriter) -> None:
    try:
        writer.commit()
    except (OSError, KeyboardInterrupt):
        writer.discard()  # nothing half-written: the commit's files go, its inputs are redone


def _finish(out: Path, summary: Summary, command: str | None) -> None:
    command = command or "scitune-curate " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    write_card(out, command=command)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    write_json_atomically({"command": command, **asdict(summary)}, out / STATE_DIR / "runs" / f"{stamp}.json")

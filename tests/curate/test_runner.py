"""The worker pool: one process per document, time limits, crashes, exceptions."""

from __future__ import annotations

import os
import signal
import time

from scitune.curate.document import Options, Result
from scitune.curate.inputs import Document
from scitune.curate.runner import run_documents


def ok_work(doc: Document, opts: Options) -> Result:
    return Result(doc.key, doc.paper_id, pages=3)


def slow_work(doc: Document, opts: Options) -> Result:
    if doc.key == "slow":
        time.sleep(60)
    return ok_work(doc, opts)


def crash_work(doc: Document, opts: Options) -> Result:
    if doc.key == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if doc.key == "raise":
        raise MemoryError("simulated")
    return ok_work(doc, opts)


def docs(*keys: str) -> list[Document]:
    return [Document(pdf=None, key=k, paper_id=f"p-{k}", stem_id=f"p-{k}") for k in keys]


def test_results_stream_back_in_parallel(tmp_path):
    results = list(run_documents(docs("a", "b", "c"), Options(workdir=tmp_path), 2, 30, 2048, work=ok_work))
    assert sorted(r.key for r in results) == ["a", "b", "c"]
    assert all(r.pages == 3 and not r.errors for r in results)


def test_hanging_document_is_stopped_and_others_finish(tmp_path):
    start = time.monotonic()
    results = {
        r.key: r
        for r in run_documents(docs("slow", "x"), Options(workdir=tmp_path), 2, 2, 2048, work=slow_work)
    }
    assert time.monotonic() - start < 20
    assert not results["x"].errors
    (err,) = results["slow"].errors
    assert err["stage"] == "timeout" and "--timeout" in err["message"]


def test_crash_and_exception_become_error_rows(tmp_path):
    results = {
        r.key: r
        for r in run_documents(
            docs("crash", "raise", "fine"), Options(workdir=tmp_path), 2, 30, 2048, work=crash_work
        )
    }
    assert results["crash"].errors[0]["stage"] == "crash"
    assert "signal 11" in results["crash"].errors[0]["message"]
    assert results["raise"].errors[0]["error"] == "MemoryError"
    assert "--max-memory" in results["raise"].errors[0]["message"]
    assert not results["fine"].errors
